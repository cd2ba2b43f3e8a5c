import type { TorchGenerator } from '../../random/torch-generator.ts';
import type { Scheduler } from '../../schedulers/scheduler.ts';
import { EngineError, type ResolvedRequest, type RgbImage } from '../../types.ts';
import { initImageTensor } from '../../image/init-image.ts';
import type { LatentShape } from '../latent-shape.ts';
import type { LoadedModel } from '../loaded-model.ts';
import { img2imgSchedule, img2imgStart } from './img2img-start.ts';
import type { LatentStart } from './initial-latents.ts';

export const NOT_SEED_EXACT_NOTE =
  'img2img is not seed-exact with this model: its vae_encoder samples the latents inside the graph (an older export with a latent_sample output), so the same seed can give a different image';

/**
 * img2img's start on a loaded model: the schedule cut to the strength, the init image encoded with
 * the folder's VAE encoder and noised. `image` is already at the request's size.
 */
export async function imageStart(
  model: LoadedModel,
  scheduler: Scheduler,
  generator: TorchGenerator,
  shape: LatentShape,
  request: ResolvedRequest,
  image: RgbImage,
): Promise<LatentStart & { notes: string[] }> {
  const encoder = model.parts.initImageEncoder;
  if (!encoder) {
    throw new EngineError('invalid-request', `this model cannot start from an image: ${model.folder.vaeEncoderPath} is missing (img2img needs the VAE encoder)`);
  }
  if (image.width !== request.width || image.height !== request.height) {
    throw new EngineError('engine-failed', `the init image is ${image.width}×${image.height}, the request ${request.width}×${request.height}`);
  }
  const schedule = img2imgSchedule(scheduler, request.steps, request.strength ?? 1);
  const encoded = await encoder.encode(initImageTensor(image), image.width, image.height, generator);
  const start = img2imgStart(scheduler, generator, shape, schedule, encoded);
  return { ...start, notes: encoded.seedExact ? [] : [NOT_SEED_EXACT_NOTE] };
}
