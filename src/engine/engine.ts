import type { EngineBackend } from './backends/backend.ts';
import { InThreadBackend } from './backends/in-thread.ts';
import { WorkerThreadBackend } from './backends/worker-thread.ts';
import { silentLogger, type EngineLogger } from './logger.ts';
import { formatParameters } from './output/parameters.ts';
import { encodePng } from './output/png.ts';
import { resolveRequest } from './request.ts';
import {
  EngineError,
  type Engine,
  type EngineInfo,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
  type ProviderChoice,
} from './types.ts';

export interface EngineOptions {
  /** A model folder in the diffusers ONNX layout. */
  modelDir: string;
  provider?: ProviderChoice;
  /** `worker` (default) keeps inference off the caller's thread; `in-thread` is for scripts and benchmarks. */
  backend?: 'worker' | 'in-thread' | EngineBackend;
  logger?: EngineLogger;
}

class DiffusionEngine implements Engine {
  /** Jobs run one after another; this is the tail of that chain. */
  private queueTail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly info: EngineInfo,
    private readonly backend: EngineBackend,
  ) {}

  generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    if (this.closed) return Promise.reject(new EngineError('engine-failed', 'the engine is closed'));
    let resolved;
    try {
      resolved = resolveRequest(request, this.info.model);
    } catch (error) {
      return Promise.reject(error);
    }
    const job = this.queueTail.then(async () => {
      if (options.signal?.aborted) throw new EngineError('cancelled', 'generation cancelled');
      const started = performance.now();
      const output = await this.backend.run({
        request: resolved,
        signal: options.signal,
        previewEvery: options.previewEvery ?? 1,
        onProgress: options.onProgress,
      });
      const parameters = formatParameters(resolved, this.info.model.name);
      const images = await Promise.all(output.images.map(async (rgb) => ({ rgb, png: await encodePng(rgb, parameters) })));
      return {
        request: resolved,
        images,
        parameters,
        timings: { totalMs: performance.now() - started, ...output.timings },
      } satisfies GenerateResult;
    });
    this.queueTail = job.catch(() => undefined);
    return job;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queueTail;
    await this.backend.close();
  }
}

/** Loads a model (sessions are created here, once) and returns an engine that serves requests. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const logger = options.logger ?? silentLogger;
  const backendOptions = { modelDir: options.modelDir, provider: options.provider ?? 'auto', logger };
  const backend =
    typeof options.backend === 'object'
      ? options.backend
      : options.backend === 'in-thread'
        ? new InThreadBackend(backendOptions)
        : new WorkerThreadBackend(backendOptions);
  try {
    const loaded = await backend.load();
    return new DiffusionEngine({ model: loaded.model, provider: loaded.provider, providerReason: loaded.providerReason }, backend);
  } catch (error) {
    await backend.close().catch(() => undefined);
    throw error;
  }
}
