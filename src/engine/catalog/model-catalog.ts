import type { EngineBackend, LoadedBackendInfo } from '../backends/backend.ts';
import type { EngineLogger } from '../logger.ts';
import { checkJobFits } from '../memory/budget.ts';
import { RUNTIME_BYTES, activationBytes, formatBytes, type JobShape } from '../memory/estimate.ts';
import { EngineError } from '../types.ts';
import type { ModelFamily } from '../model/family.ts';
import type { ModelCapabilities } from '../types.ts';
import type { CatalogEntry } from './model-entry.ts';

/** A model as the catalog lists it, whether or not its sessions are open. */
export interface CatalogModel {
  name: string;
  path: string;
  family: ModelFamily;
  /** Pixels; the model's own default size (512 when its unet/config.json does not say). */
  nativeWidth: number;
  nativeHeight: number;
  capabilities: ModelCapabilities;
  /** Whether its sessions are open now. */
  loaded: boolean;
  /** What the model's weights take when loaded, in MB (from its files' sizes). */
  weightsMb: number;
}

interface Slot {
  entry: CatalogEntry;
  /** Activations of the largest job run so far, when the model's arena keeps them. */
  heldBytes: number;
  backend: EngineBackend | undefined;
  loaded: Promise<LoadedBackendInfo> | undefined;
  info: LoadedBackendInfo | undefined;
  lastUsed: number;
}

export const DEFAULT_NATIVE_SIZE = 512;

/**
 * The models an engine serves: each loads (in its own backend) on first use, and stays loaded while
 * the memory budget allows; the least recently used is unloaded first to make room. Callers run
 * one job at a time (the engine facade queues them), so loads and evictions never overlap a job.
 */
export class ModelCatalog {
  private readonly slots = new Map<string, Slot>();
  private clock = 0;

  constructor(
    entries: readonly CatalogEntry[],
    private readonly makeBackend: (entry: CatalogEntry) => EngineBackend,
    readonly budgetBytes: number,
    private readonly log: EngineLogger,
    /** Whether a loaded model keeps its jobs' activations (ONNX Runtime's arena on) besides its weights. */
    private readonly holdsActivations: (entry: CatalogEntry) => boolean = () => false,
  ) {
    for (const entry of entries) {
      if (this.slots.has(entry.name)) {
        throw new EngineError('model-invalid', `two model folders are both called "${entry.name}" (${this.slots.get(entry.name)!.entry.path} and ${entry.path}); rename one`);
      }
      this.slots.set(entry.name, { entry, heldBytes: 0, backend: undefined, loaded: undefined, info: undefined, lastUsed: 0 });
    }
  }

  list(): CatalogModel[] {
    return [...this.slots.values()].map(({ entry, info }) => ({
      name: entry.name,
      path: entry.path,
      family: entry.family,
      nativeWidth: entry.nativeSize ?? DEFAULT_NATIVE_SIZE,
      nativeHeight: entry.nativeSize ?? DEFAULT_NATIVE_SIZE,
      capabilities: { ...entry.capabilities },
      loaded: info !== undefined,
      weightsMb: Math.ceil(entry.memory.weightsBytes / 1024 ** 2),
    }));
  }

  names(): string[] {
    return [...this.slots.keys()];
  }

  entry(name: string): CatalogEntry {
    return this.slot(name).entry;
  }

  /** The loaded model's info, or undefined while it is not loaded. */
  loadedInfo(name: string): LoadedBackendInfo | undefined {
    return this.slot(name).info;
  }

  /** Refuses a job that cannot fit the budget even with every other model unloaded. */
  checkFits(name: string, job: JobShape): void {
    const { entry } = this.slot(name);
    checkJobFits(name, entry.memory, job, this.budgetBytes);
  }

  /**
   * Loads `name` if needed and unloads least recently used others until its weights, theirs and
   * the job's activations fit the budget. Returns the backend to run the job on.
   */
  async acquire(name: string, job: JobShape): Promise<{ backend: EngineBackend; info: LoadedBackendInfo }> {
    const slot = this.slot(name);
    this.checkFits(name, job);
    slot.lastUsed = ++this.clock;
    const activations = activationBytes(slot.entry.memory, job);
    const needed = slot.entry.memory.weightsBytes + Math.max(activations, slot.heldBytes);
    await this.makeRoom(name, needed);
    if (this.holdsActivations(slot.entry)) slot.heldBytes = Math.max(slot.heldBytes, activations);
    if (!slot.loaded) {
      const backend = this.makeBackend(slot.entry);
      slot.backend = backend;
      slot.loaded = backend.load().then(
        (info) => {
          slot.info = info;
          this.log.info({ model: name }, `loaded model ${name}`);
          return info;
        },
        async (error: unknown) => {
          slot.backend = undefined;
          slot.loaded = undefined;
          await backend.close().catch(() => undefined);
          throw error;
        },
      );
    }
    const info = await slot.loaded;
    return { backend: slot.backend!, info };
  }

  /** Loads a model now (e.g. the default one at start-up, so a broken folder fails early); only its weights must fit. */
  async preload(name: string): Promise<LoadedBackendInfo> {
    return (await this.acquire(name, { width: 8, height: 8, count: 1, guidance: 0 })).info;
  }

  private async makeRoom(keep: string, neededBytes: number): Promise<void> {
    const residentOthers = (): Slot[] => [...this.slots.values()].filter((s) => s.loaded && s.entry.name !== keep);
    const used = (): number => RUNTIME_BYTES + residentOthers().reduce((sum, s) => sum + s.entry.memory.weightsBytes + s.heldBytes, 0);
    while (used() + neededBytes > this.budgetBytes) {
      const victim = residentOthers().sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (!victim) break;
      this.log.info(
        { model: victim.entry.name, for: keep, budget: formatBytes(this.budgetBytes) },
        `unloading model ${victim.entry.name} to make room for ${keep} within the memory budget`,
      );
      await this.unload(victim);
    }
  }

  private async unload(slot: Slot): Promise<void> {
    const backend = slot.backend;
    slot.backend = undefined;
    slot.loaded = undefined;
    slot.info = undefined;
    slot.heldBytes = 0;
    await backend?.close();
  }

  private slot(name: string): Slot {
    const slot = this.slots.get(name);
    if (!slot) {
      throw new EngineError('invalid-request', `unknown model "${name}"; available: ${this.names().join(', ')}`);
    }
    return slot;
  }

  async close(): Promise<void> {
    await Promise.all([...this.slots.values()].map((slot) => this.unload(slot)));
  }
}
