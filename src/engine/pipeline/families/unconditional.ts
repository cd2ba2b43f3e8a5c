import type { ResolvedRequest, RgbImage } from '../../types.ts';
import { fixedConditioning, type UnetConditioning } from '../conditioning.ts';
import type { GenerationHooks } from '../hooks.ts';
import { latentsPerImage, type LatentShape } from '../latent-shape.ts';
import { decodedToRgb } from '../preview.ts';
import { cancelledError } from '../stages/denoise.ts';
import type { ImageDecoder } from '../stages/decode.ts';
import { describeUnet, type UnetPart } from '../unet.ts';
import type { FamilyDefinition, FamilyPipeline } from './family.ts';

/** Pixel-space models need no VAE: the loop's result is the image, `(x / 2 + 0.5).clamp(0, 1)` to 8-bit. */
class PixelDecoder implements ImageDecoder {
  readonly scale = 1;

  decode(latents: Float32Array, shape: LatentShape, hooks: GenerationHooks): Promise<RgbImage[]> {
    const perImage = latentsPerImage(shape);
    const images: RgbImage[] = [];
    for (let i = 0; i < shape.count; i++) {
      images.push(decodedToRgb(latents.subarray(i * perImage, (i + 1) * perImage), shape.width, shape.height));
      if (hooks.isCancelled()) throw cancelledError();
    }
    return Promise.resolve(images);
  }
}

/**
 * diffusers' DDPMPipeline / DDIMPipeline: `randn([count, 3, H, W])` from the seeded generator, the
 * UNet on the bare sample and timestep at each step (no prompt, no guidance, no input scaling), the
 * scheduler step, and the sample itself as the image. Request checks keep the scheduler to DDPM or
 * DDIM, whose initial noise and model input are unscaled as these pipelines assume.
 */
class UnconditionalPipeline implements FamilyPipeline {
  readonly family = 'unconditional';
  readonly latentChannels = 3;
  readonly decoder = new PixelDecoder();

  constructor(readonly unet: UnetPart) {}

  encode(_request: ResolvedRequest): Promise<UnetConditioning> {
    return Promise.resolve(fixedConditioning(1, 1, {}));
  }

  /** The predicted clean sample is already an image. */
  preview(latents: Float32Array, shape: LatentShape): RgbImage {
    return decodedToRgb(latents.subarray(0, latentsPerImage(shape)), shape.width, shape.height);
  }
}

export const unconditionalFamily: FamilyDefinition = {
  defaultSampleSize: 32,
  sessionPaths: (folder) => [folder.unetPath],
  assemble({ folder, sessions }) {
    const unet = describeUnet(folder.unetPath, sessions.get(folder.unetPath), {
      channels: 3,
      fillable: [],
      required: [],
      family: 'unconditional',
    });
    return Promise.resolve(new UnconditionalPipeline(unet));
  },
};
