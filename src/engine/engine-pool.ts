import type { CatalogModel } from './catalog/model-catalog.ts';
import { EngineError, type Engine, type EngineInfo, type GenerateOptions, type GenerateRequest, type GenerateResult } from './types.ts';

/**
 * Several engines (each with its own worker and sessions) behind the one Engine interface, so N
 * jobs really run at once: a job takes whichever engine is free, or waits for the first to free up.
 */
export class EnginePool implements Engine {
  readonly info: EngineInfo;
  private readonly idle: Engine[];
  private readonly waiting: ((engine: Engine) => void)[] = [];
  private closed = false;

  constructor(private readonly engines: readonly Engine[]) {
    if (engines.length === 0) throw new Error('EnginePool needs at least one engine');
    this.info = engines[0]!.info;
    this.idle = [...engines];
  }

  /** The models each engine serves (they all serve the same ones). */
  listModels(): CatalogModel[] {
    const first = this.engines[0] as Engine & { listModels?: () => CatalogModel[] };
    return first.listModels?.() ?? [];
  }

  get size(): number {
    return this.engines.length;
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    if (this.closed) throw new EngineError('engine-failed', 'the engine is closed');
    const engine = this.idle.pop() ?? (await new Promise<Engine>((resolve) => this.waiting.push(resolve)));
    try {
      return await engine.generate(request, options);
    } finally {
      const next = this.waiting.shift();
      if (next) next(engine);
      else this.idle.push(engine);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.engines.map((engine) => engine.close()));
  }
}
