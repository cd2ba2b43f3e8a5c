import sharp from 'sharp';
import {
  DEFAULTS,
  EngineError,
  LIMITS,
  type Engine,
  type EngineInfo,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
  type ResolvedRequest,
  type RgbImage,
} from '../../src/engine/types.ts';

export interface FakeEngineOptions {
  /** Delay before each step, in ms; a function can vary it per step. Default 20. */
  stepDelayMs?: number | ((step: number, request: ResolvedRequest) => number);
  nativeSize?: number;
  modelName?: string;
  /** Side of the square RGB previews reported with progress. Default 8. */
  previewSize?: number;
  /** Make the next generate calls fail with this error. */
  failWith?: Error;
}

/** Solid colour derived from the seed, so different seeds give visibly different images. */
export function colourForSeed(seed: number): { r: number; g: number; b: number } {
  return { r: seed & 0xff, g: (seed >>> 8) & 0xff, b: (seed >>> 16) & 0xff };
}

function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new EngineError('cancelled', 'Generation cancelled.'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new EngineError('cancelled', 'Generation cancelled.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A stand-in for the diffusion engine: solid-colour PNGs of the requested size, progress with
 * previews after configurable per-step delays, cancellation between steps, and a record of every
 * request. Like the real engine, it serves one generation at a time.
 */
export class FakeEngine implements Engine {
  readonly info: EngineInfo;
  /** Requests as received, in order of arrival. */
  readonly requests: GenerateRequest[] = [];
  /** Requests as run (defaults and seed filled in), in order of start. */
  readonly started: ResolvedRequest[] = [];
  readonly completed: ResolvedRequest[] = [];
  readonly cancelled: ResolvedRequest[] = [];
  running = 0;
  maxConcurrent = 0;
  closed = false;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: FakeEngineOptions = {}) {
    const size = options.nativeSize ?? 64;
    this.info = {
      model: {
        name: options.modelName ?? 'fake-sd',
        path: '/fake/models/fake-sd',
        family: 'sd',
        capabilities: { textToImage: true, img2img: false, safetyChecker: false, unconditional: false },
        nativeWidth: size,
        nativeHeight: size,
        defaultScheduler: 'pndm',
        predictionType: 'epsilon',
        precision: 'float32',
      },
      provider: 'cpu',
      providerReason: 'fake engine',
    };
  }

  failNextWith(error: Error | undefined): void {
    this.options.failWith = error;
  }

  generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    this.requests.push(structuredClone(request));
    // One at a time, in arrival order, as the Engine interface promises.
    const result = this.#chain.then(() => this.#generate(request, options));
    this.#chain = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async #generate(request: GenerateRequest, options: GenerateOptions): Promise<GenerateResult> {
    if (this.options.failWith) throw this.options.failWith;
    const resolved = this.#resolve(request);
    this.started.push(resolved);
    this.running++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.running);
    const startedAt = Date.now();
    try {
      const previewEvery = options.previewEvery ?? 1;
      for (let step = 1; step <= resolved.steps; step++) {
        const delay = this.options.stepDelayMs ?? 20;
        await abortableDelay(typeof delay === 'function' ? delay(step, resolved) : delay, options.signal);
        options.onProgress?.({
          step,
          totalSteps: resolved.steps,
          elapsedMs: Date.now() - startedAt,
          ...(previewEvery > 0 && step % previewEvery === 0 ? { preview: this.#preview(resolved.seed, step) } : {}),
        });
      }
      if (options.signal?.aborted) throw new EngineError('cancelled', 'Generation cancelled.');
      const colour = colourForSeed(resolved.seed);
      const images = await Promise.all(
        Array.from({ length: resolved.count }, async () => {
          const png = await sharp({ create: { width: resolved.width, height: resolved.height, channels: 3, background: colour } })
            .png()
            .toBuffer();
          const rgb: RgbImage = { width: resolved.width, height: resolved.height, data: new Uint8Array(resolved.width * resolved.height * 3) };
          return { png, rgb };
        }),
      );
      const totalMs = Date.now() - startedAt;
      this.completed.push(resolved);
      return {
        request: resolved,
        images,
        parameters: `${resolved.prompt}\nSteps: ${resolved.steps}, Seed: ${resolved.seed}`,
        timings: { totalMs, encodeMs: 0, denoiseMs: totalMs, decodeMs: 0, perStepMs: totalMs / resolved.steps },
      };
    } catch (error) {
      if (error instanceof EngineError && error.code === 'cancelled') this.cancelled.push(resolved);
      throw error;
    } finally {
      this.running--;
    }
  }

  #resolve(request: GenerateRequest): ResolvedRequest {
    const { model } = this.info;
    const resolved: ResolvedRequest = {
      prompt: request.prompt,
      negativePrompt: request.negativePrompt ?? '',
      seed: request.seed ?? Math.floor(Math.random() * (LIMITS.seed.max + 1)),
      steps: request.steps ?? DEFAULTS.steps,
      guidance: request.guidance ?? DEFAULTS.guidance,
      scheduler: request.scheduler ?? model.defaultScheduler,
      width: request.width ?? model.nativeWidth,
      height: request.height ?? model.nativeHeight,
      count: request.count ?? DEFAULTS.count,
    };
    if (resolved.width % LIMITS.sizeMultiple !== 0 || resolved.height % LIMITS.sizeMultiple !== 0) {
      throw new EngineError('invalid-request', `Width and height must be multiples of ${LIMITS.sizeMultiple}.`);
    }
    return resolved;
  }

  #preview(seed: number, step: number): RgbImage {
    const size = this.options.previewSize ?? 8;
    const data = new Uint8Array(size * size * 3);
    const { r, g, b } = colourForSeed(seed + step);
    for (let i = 0; i < size * size; i++) data.set([r, g, b], i * 3);
    return { width: size, height: size, data };
  }
}
