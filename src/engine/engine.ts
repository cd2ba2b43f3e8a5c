import { basename, resolve } from 'node:path';
import type { EngineBackend } from './backends/backend.ts';
import { InThreadBackend } from './backends/in-thread.ts';
import { WorkerThreadBackend } from './backends/worker-thread.ts';
import { ModelCatalog, DEFAULT_NATIVE_SIZE, type CatalogModel } from './catalog/model-catalog.ts';
import { describeModelFolder, findModelFolders, type CatalogEntry } from './catalog/model-entry.ts';
import { silentLogger, type EngineLogger } from './logger.ts';
import { resolveMemoryBudget } from './memory/budget.ts';
import type { JobShape } from './memory/estimate.ts';
import { formatParameters } from './output/parameters.ts';
import { encodePng } from './output/png.ts';
import { decodeInitImage, fitInitImage, initImageOutputSize } from './image/init-image.ts';
import { DEFAULT_SESSION_SETTINGS, arenaFromEnv, resolveArena, threadsFromEnv, type ArenaChoice, type SessionSettings } from './providers.ts';
import { resolveRequest } from './request.ts';
import {
  DEFAULTS,
  EngineError,
  type Engine,
  type EngineInfo,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
  type ProviderChoice,
  type ResolvedRequest,
  type ModelInfo,
  type RgbImage,
} from './types.ts';

export interface EngineOptions {
  /** One model folder in the diffusers ONNX layout. */
  modelDir?: string;
  /**
   * Several models: a folder of model folders (each subfolder holding a model_index.json), or a
   * list of model folders. Each loads on first use; see `memoryBudgetMb`.
   */
  modelsDir?: string;
  modelDirs?: readonly string[];
  /** The model a request that names none runs on (a folder name); default `modelDir`, else the first listed. */
  defaultModel?: string;
  provider?: ProviderChoice;
  /** `worker` (default) keeps inference off the caller's thread; `in-thread` is for scripts and benchmarks. A backend object serves `modelDir` only. */
  backend?: 'worker' | 'in-thread' | EngineBackend;
  logger?: EngineLogger;
  /**
   * Memory for loaded models plus one job, in MB: requests estimated above it are refused with the
   * largest size that fits, and least recently used models are unloaded to stay within it.
   * Default $IMAGINE_MEMORY_BUDGET_MB, else 75% of the machine's memory.
   */
  memoryBudgetMb?: number;
  /**
   * ONNX Runtime memory and thread settings (see SessionSettings). `cpuMemArena` defaults to
   * $IMAGINE_CPU_MEM_ARENA (on, off, auto), else `auto`: on for models under 1 GB of weights;
   * thread counts to $IMAGINE_INTRA_OP_THREADS / $IMAGINE_INTER_OP_THREADS, else 0 (ONNX Runtime's choice).
   */
  session?: Partial<Omit<SessionSettings, 'cpuMemArena'>> & { cpuMemArena?: ArenaChoice };
}

/** An engine serving one or more models; `listModels` reads their folders, it opens no session. */
export interface CatalogEngine extends Engine {
  listModels(): CatalogModel[];
}

function jobShape(request: GenerateRequest | ResolvedRequest, nativeSize: number): JobShape {
  const pick = (value: unknown, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback);
  return {
    width: pick(request.width, nativeSize),
    height: pick(request.height, nativeSize),
    count: pick(request.count, DEFAULTS.count),
    guidance: typeof request.guidance === 'number' ? request.guidance : DEFAULTS.guidance,
  };
}

/**
 * A request made ready before it queues: resolved at once when its model is loaded, else when the
 * job starts; an init image is decoded early so a bad one is refused without waiting.
 */
interface PreparedRequest {
  request: GenerateRequest;
  resolved?: ResolvedRequest;
  initImage?: RgbImage;
}

class DiffusionEngine implements CatalogEngine {
  /** Jobs run one after another; this is the tail of that chain. */
  private queueTail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly info: EngineInfo,
    private readonly catalog: ModelCatalog,
    private readonly defaultModel: string,
  ) {}

  listModels(): CatalogModel[] {
    return this.catalog.list();
  }

  generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    if (this.closed) return Promise.reject(new EngineError('engine-failed', 'the engine is closed'));
    const name = options.model ?? request.model ?? this.defaultModel;
    let prepared: Promise<PreparedRequest>;
    try {
      const loaded = this.catalog.loadedInfo(name)?.model;
      prepared = request.initImage === undefined ? Promise.resolve(this.prepareTextToImage(name, request, loaded)) : this.prepareImg2Img(name, request, loaded);
    } catch (error) {
      return Promise.reject(error);
    }
    prepared.catch(() => undefined);
    const job = this.queueTail.then(async () => {
      const ready = await prepared;
      if (options.signal?.aborted) throw new EngineError('cancelled', 'generation cancelled');
      const started = performance.now();
      const { backend, info } = await this.catalog.acquire(name, this.shapeOf(name, ready.resolved ?? ready.request));
      const resolved = ready.resolved ?? resolveRequest(ready.request, info.model);
      const initImage = ready.initImage && fitInitImage(ready.initImage, resolved.width, resolved.height);
      if (options.signal?.aborted) throw new EngineError('cancelled', 'generation cancelled');
      const output = await backend.run({
        request: resolved,
        initImage,
        safetyCheck: options.safetyCheck ?? true,
        signal: options.signal,
        previewEvery: options.previewEvery ?? 1,
        onProgress: options.onProgress,
      });
      const parameters = formatParameters(resolved, info.model.name, resolved.strength === undefined ? {} : { 'Denoising strength': resolved.strength });
      const images = await Promise.all(
        output.images.map(async (rgb, i) => {
          const nsfw = output.nsfw?.[i];
          return { rgb, png: await encodePng(rgb, parameters), ...(nsfw !== undefined && { nsfw }) };
        }),
      );
      return {
        request: resolved,
        images,
        parameters,
        timings: { totalMs: performance.now() - started, ...output.timings },
        ...(output.notes && output.notes.length > 0 && { notes: output.notes }),
        ...(output.dropped && { dropped: output.dropped }),
      } satisfies GenerateResult;
    });
    this.queueTail = job.catch(() => undefined);
    return job;
  }

  private shapeOf(name: string, request: GenerateRequest | ResolvedRequest): JobShape {
    return jobShape(request, this.catalog.entry(name).nativeSize ?? DEFAULT_NATIVE_SIZE);
  }

  /** A loaded model's request is checked now, so a bad one never waits behind other jobs. */
  private prepareTextToImage(name: string, request: GenerateRequest, model: ModelInfo | undefined): PreparedRequest {
    const resolved = model && resolveRequest(request, model);
    this.catalog.checkFits(name, this.shapeOf(name, resolved ?? request));
    return { request, ...(resolved && { resolved }) };
  }

  /** Decodes an img2img request's image and takes its size (diffusers' VaeImageProcessor) when none is asked. */
  private async prepareImg2Img(name: string, request: GenerateRequest, model: ModelInfo | undefined): Promise<PreparedRequest> {
    this.catalog.entry(name);
    // Model and option errors first: they say more than an image error would.
    if (model) resolveRequest({ ...request, width: undefined, height: undefined }, model);
    const initImage = await decodeInitImage(request.initImage!);
    const sized = { ...request, ...initImageOutputSize(initImage, request.width, request.height) };
    return { ...this.prepareTextToImage(name, sized, model), initImage };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queueTail;
    await this.catalog.close();
  }
}

/**
 * Describes the folders to serve. A folder named on its own must be readable; one found by
 * scanning `modelsDir` that is not (an unknown pipeline class, broken JSON) is left out with a
 * warning, so one bad download does not take the others down.
 */
async function catalogEntries(options: EngineOptions, log: EngineLogger): Promise<CatalogEntry[]> {
  const named = [...(options.modelDir !== undefined ? [options.modelDir] : []), ...(options.modelDirs ?? [])].map((dir) => resolve(dir));
  const scanned = options.modelsDir !== undefined ? (await findModelFolders(options.modelsDir)).filter((dir) => !named.includes(dir)) : [];
  const entries: CatalogEntry[] = [];
  for (const dir of new Set(named)) entries.push(await describeModelFolder(dir));
  for (const dir of scanned) {
    try {
      entries.push(await describeModelFolder(dir));
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      log.warn({ dir, err: error }, `skipping model folder ${dir}: ${error.message}`);
    }
  }
  if (entries.length === 0) {
    throw new EngineError(
      'model-invalid',
      options.modelsDir !== undefined ? `${resolve(options.modelsDir)}: no usable model folders (none holds a readable model_index.json)` : 'no model given: pass modelDir, modelDirs or modelsDir',
    );
  }
  return entries;
}

/**
 * Opens an engine over one model (`modelDir`) or several (`modelsDir` / `modelDirs`). The default
 * model is loaded here, so a broken one fails at start; the others load on first use.
 */
export async function createEngine(options: EngineOptions): Promise<CatalogEngine> {
  const logger = options.logger ?? silentLogger;
  const provider = options.provider ?? 'auto';
  const arena = options.session?.cpuMemArena ?? arenaFromEnv();
  const threads = threadsFromEnv();
  const sessionFor = (entry: CatalogEntry): SessionSettings => ({
    ...DEFAULT_SESSION_SETTINGS,
    ...threads,
    ...options.session,
    cpuMemArena: resolveArena(arena, entry.memory.weightsBytes),
  });
  const budgetBytes = resolveMemoryBudget(options.memoryBudgetMb);
  const entries = await catalogEntries(options, logger);
  if (typeof options.backend === 'object' && entries.length !== 1) {
    throw new EngineError('engine-failed', 'a backend object serves one model: pass modelDir alone');
  }
  const makeBackend = (entry: CatalogEntry): EngineBackend => {
    if (typeof options.backend === 'object') return options.backend;
    const backendOptions = { modelDir: entry.path, provider, logger, session: sessionFor(entry) };
    return options.backend === 'in-thread' ? new InThreadBackend(backendOptions) : new WorkerThreadBackend(backendOptions);
  };
  // A model with the arena on keeps its last job's activations: count them as resident too.
  const catalog = new ModelCatalog(entries, makeBackend, budgetBytes, logger, (entry) => sessionFor(entry).cpuMemArena);
  const defaultModel = options.defaultModel ?? basename(resolve(options.modelDir ?? entries[0]!.path));
  try {
    const loaded = await catalog.preload(defaultModel);
    return new DiffusionEngine({ model: loaded.model, provider: loaded.provider, providerReason: loaded.providerReason }, catalog, defaultModel);
  } catch (error) {
    await catalog.close().catch(() => undefined);
    throw error;
  }
}
