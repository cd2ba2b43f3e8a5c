import type { CatalogModel } from '../../../src/engine/index.ts';
import type { Engine, GenerateOptions, GenerateRequest, GenerateResult, ResolvedRequest } from '../../../src/engine/types.ts';

/**
 * Wraps any engine (the fake or the real one) and records what it was asked and what it ran, so that
 * e2e tests observe the engine the same way whichever one they use.
 */
export class RecordingEngine implements Engine {
  readonly requests: GenerateRequest[] = [];
  readonly completed: ResolvedRequest[] = [];
  /** Prompts in the order generation started. */
  readonly startOrder: string[] = [];
  readonly cancelledPrompts: string[] = [];
  /** Date.now() when each generation finished, in order. */
  readonly completedAt: number[] = [];

  /** Present when the inner engine has a catalog, so the bot sees the same models through this wrapper. */
  readonly listModels?: () => CatalogModel[];

  constructor(readonly inner: Engine) {
    const catalog = inner as Partial<Pick<RecordingEngine, 'listModels'>>;
    if (typeof catalog.listModels === 'function') this.listModels = () => catalog.listModels!.call(inner);
  }

  get info() {
    return this.inner.info;
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    this.requests.push(structuredClone(request));
    let started = false;
    const markStarted = () => {
      if (!started) this.startOrder.push(request.prompt);
      started = true;
    };
    try {
      const result = await this.inner.generate(request, {
        ...options,
        onProgress: (progress) => {
          markStarted();
          options.onProgress?.(progress);
        },
      });
      markStarted();
      this.completed.push(result.request);
      this.completedAt.push(Date.now());
      return result;
    } catch (error) {
      if (options.signal?.aborted) this.cancelledPrompts.push(request.prompt);
      throw error;
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
