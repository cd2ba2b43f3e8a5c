import type { EngineBackend } from './backends/backend.ts';
import { InThreadBackend } from './backends/in-thread.ts';
import { WorkerThreadBackend } from './backends/worker-thread.ts';
import { silentLogger, type EngineLogger } from './logger.ts';
import { formatParameters } from './output/parameters.ts';
import { encodePng } from './output/png.ts';
import { decodeInitImage, fitInitImage, initImageOutputSize } from './image/init-image.ts';
import { resolveRequest } from './request.ts';
import {
  EngineError,
  type Engine,
  type EngineInfo,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
  type ProviderChoice,
  type ResolvedRequest,
  type RgbImage,
} from './types.ts';

export interface EngineOptions {
  /** A model folder in the diffusers ONNX layout. */
  modelDir: string;
  provider?: ProviderChoice;
  /** `worker` (default) keeps inference off the caller's thread; `in-thread` is for scripts and benchmarks. */
  backend?: 'worker' | 'in-thread' | EngineBackend;
  logger?: EngineLogger;
}

interface PreparedRequest {
  resolved: ResolvedRequest;
  initImage?: RgbImage;
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
    let prepared: Promise<PreparedRequest>;
    try {
      // Requests without an init image are checked at once; an init image is decoded meanwhile.
      prepared = request.initImage === undefined ? Promise.resolve({ resolved: resolveRequest(request, this.info.model) }) : this.prepareImg2Img(request);
    } catch (error) {
      return Promise.reject(error);
    }
    prepared.catch(() => undefined);
    const job = this.queueTail.then(async () => {
      const { resolved, initImage } = await prepared;
      if (options.signal?.aborted) throw new EngineError('cancelled', 'generation cancelled');
      const started = performance.now();
      const output = await this.backend.run({
        request: resolved,
        initImage,
        safetyCheck: options.safetyCheck ?? true,
        signal: options.signal,
        previewEvery: options.previewEvery ?? 1,
        onProgress: options.onProgress,
      });
      const parameters = formatParameters(resolved, this.info.model.name, resolved.strength === undefined ? {} : { 'Denoising strength': resolved.strength });
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
      } satisfies GenerateResult;
    });
    this.queueTail = job.catch(() => undefined);
    return job;
  }

  /** Checks an img2img request, decodes its image and fits it to the output size (diffusers' VaeImageProcessor). */
  private async prepareImg2Img(request: GenerateRequest): Promise<PreparedRequest> {
    const initImage = request.initImage!;
    // Model and option errors first: they say more than an image error would.
    resolveRequest({ ...request, width: undefined, height: undefined }, this.info.model);
    const decoded = await decodeInitImage(initImage);
    const size = initImageOutputSize(decoded, request.width, request.height);
    const resolved = resolveRequest({ ...request, ...size }, this.info.model);
    return { resolved, initImage: fitInitImage(decoded, resolved.width, resolved.height) };
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
