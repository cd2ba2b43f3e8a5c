/**
 * img2img's start, as diffusers' StableDiffusionImg2ImgPipeline makes it: `get_timesteps` keeps the
 * last `int(steps × strength)` steps of the schedule, the VAE encoder's latent distribution is sampled
 * from the seeded generator (`retrieve_latents` → `DiagonalGaussianDistribution.sample`), scaled, and
 * noised to the first kept timestep by the scheduler's own `add_noise`, with noise drawn next from the
 * same generator.
 */
import type * as ort from 'onnxruntime-node';
import { ModelFileError } from '../../model/files.ts';
import { fixedDim, requireTensor } from '../../model/onnx-session.ts';
import type { TorchGenerator } from '../../random/torch-generator.ts';
import type { Scheduler } from '../../schedulers/scheduler.ts';
import { EngineError } from '../../types.ts';
import { runSession } from '../run-session.ts';
import { floatTensor, readFloats } from '../tensors.ts';
import { FLOAT_TYPES, type FloatType } from '../unet.ts';
import { latentsPerImage, type LatentShape } from '../latent-shape.ts';
import type { LatentStart } from './initial-latents.ts';

const f = Math.fround;

/** The part of the schedule an img2img run covers. */
export interface Img2ImgSchedule {
  /** `scheduler.timesteps[t_start * order:]`: the UNet calls still to make. */
  timesteps: readonly number[];
  /** `t_start * order`, given to the scheduler as its begin index. */
  beginIndex: number;
  /** `num_inference_steps - t_start`: the steps the run makes, as diffusers' progress bar counts them. */
  userSteps: number;
}

/**
 * `get_timesteps(num_inference_steps, strength)` on a scheduler whose `setTimesteps(steps)` has run:
 * slices the schedule and sets the scheduler's begin index. A strength too small to keep one step is
 * the request's fault and says so.
 */
export function img2imgSchedule(scheduler: Scheduler, steps: number, strength: number): Img2ImgSchedule {
  const initTimestep = Math.min(Math.trunc(steps * strength), steps);
  if (initTimestep < 1) {
    throw new EngineError(
      'invalid-request',
      `strength ${strength} × ${steps} steps leaves no step to run (img2img runs int(steps × strength) of them); raise the strength or the steps`,
    );
  }
  const tStart = Math.max(steps - initTimestep, 0);
  const beginIndex = tStart * scheduler.order;
  scheduler.setBeginIndex(beginIndex);
  return { timesteps: scheduler.timesteps.slice(beginIndex), beginIndex, userSteps: steps - tStart };
}

/**
 * `DiagonalGaussianDistribution(parameters).sample(generator)` for one image: mean and log-variance
 * are the first and second half of the channels; logvar is clamped to [-30, 20]; the sample is
 * `mean + exp(0.5 · logvar) · randn(mean.shape)`, all in float32.
 */
export function sampleLatentDistribution(parameters: Float32Array, generator: TorchGenerator): Float32Array {
  const half = parameters.length / 2;
  const noise = generator.randn(half);
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const logvar = Math.min(Math.max(parameters[half + i]!, -30), 20);
    const std = f(Math.exp(f(0.5 * logvar)));
    out[i] = parameters[i]! + f(std * noise[i]!);
  }
  return out;
}

/** What the encoder gives for the init image: scaled latents for one image, and whether seeds reproduce them. */
export interface EncodedInitImage {
  /** `scaling_factor × latents`, [1, 4, h, w]. */
  latents: Float32Array;
  /** False for older exports whose graph samples the distribution itself (`latent_sample`). */
  seedExact: boolean;
}

/** The VAE encoder (`vae_encoder/model.onnx`) as optimum exports it, or as older exports did. */
export class VaeEncoder {
  private constructor(
    readonly path: string,
    private readonly session: ort.InferenceSession,
    private readonly input: { name: string; type: FloatType },
    private readonly output: { name: string; kind: 'latent_parameters' | 'latent_sample' },
    private readonly scalingFactor: number,
  ) {}

  /** Reads the encoder's declared input and output; refuses, naming the file, one it cannot use. */
  static describe(path: string, session: ort.InferenceSession, scalingFactor: number): VaeEncoder {
    const sample = requireTensor(path, session.inputMetadata, 'input', { names: ['sample'], types: [...FLOAT_TYPES], ranks: [4] });
    const output = requireTensor(path, session.outputMetadata, 'output', {
      names: ['latent_parameters', 'latent_sample'],
      types: [...FLOAT_TYPES],
      ranks: [4],
    });
    const kind = output.name === 'latent_parameters' ? 'latent_parameters' : 'latent_sample';
    const channels = fixedDim(output, 1);
    const expected = kind === 'latent_parameters' ? 8 : 4;
    if (channels !== undefined && channels !== expected) {
      throw new ModelFileError(path, `output ${output.name} has ${channels} channels, expected ${expected}`);
    }
    return new VaeEncoder(path, session, { name: sample.name, type: sample.type as FloatType }, { name: output.name, kind }, scalingFactor);
  }

  /** Encodes one [3, H, W] image in [-1, 1]; draws from `generator` only for `latent_parameters` exports. */
  async encode(pixels: Float32Array, width: number, height: number, generator: TorchGenerator): Promise<EncodedInitImage> {
    const output = await runSession(this.session, { [this.input.name]: floatTensor(this.input.type, pixels, [1, 3, height, width]) }, 'vae_encoder');
    const values = readFloats(output[this.output.name], 'vae_encoder');
    const perChannel = (width / 8) * (height / 8);
    const channels = this.output.kind === 'latent_parameters' ? 8 : 4;
    if (values.length !== channels * perChannel) {
      throw new ModelFileError(this.path, `gave ${values.length} values for a ${width}×${height} image, expected ${channels}×${height / 8}×${width / 8} (the encoder must downsample ×8)`);
    }
    const sampled = this.output.kind === 'latent_parameters' ? sampleLatentDistribution(values, generator) : values;
    const scale = f(this.scalingFactor);
    const latents = new Float32Array(sampled.length);
    for (let i = 0; i < latents.length; i++) latents[i] = scale * sampled[i]!;
    return { latents, seedExact: this.output.kind === 'latent_parameters' };
  }
}

/**
 * The denoising loop's start for img2img (`prepare_latents`): the one encoded image repeated for each
 * of `shape.count`, noised with `randn(shape)` from the generator at the first kept timestep.
 */
export function img2imgStart(scheduler: Scheduler, generator: TorchGenerator, shape: LatentShape, schedule: Img2ImgSchedule, encoded: EncodedInitImage): LatentStart {
  const perImage = latentsPerImage(shape);
  if (encoded.latents.length !== perImage) {
    throw new EngineError('engine-failed', `the encoded init image has ${encoded.latents.length} latents, expected ${perImage}`);
  }
  const initLatents = new Float32Array(perImage * shape.count);
  for (let i = 0; i < shape.count; i++) initLatents.set(encoded.latents, i * perImage);
  const noise = generator.randn(initLatents.length);
  const latents = scheduler.addNoise(initLatents, noise, schedule.timesteps[0]!);
  return { latents, timesteps: schedule.timesteps, userSteps: schedule.userSteps };
}
