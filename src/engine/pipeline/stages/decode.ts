import type * as ort from 'onnxruntime-node';
import { ModelFileError } from '../../model/files.ts';
import { fixedDim, requireTensor } from '../../model/onnx-session.ts';
import type { RgbImage } from '../../types.ts';
import type { GenerationHooks } from '../hooks.ts';
import { latentsPerImage, type LatentShape } from '../latent-shape.ts';
import { assertFinite } from '../finite.ts';
import { decodedToRgb } from '../preview.ts';
import { runSession } from '../run-session.ts';
import { floatTensor, readFloats } from '../tensors.ts';
import { FLOAT_TYPES, type FloatType } from '../unet.ts';
import { cancelledError } from './denoise.ts';

/** Turns the loop's final latents into images. */
export interface ImageDecoder {
  /** Pixels per latent along each side (8 for SD's VAE, 1 for pixel-space models). */
  readonly scale: number;
  decode(latents: Float32Array, shape: LatentShape, hooks: GenerationHooks): Promise<RgbImage[]>;
}

/** diffusers' VAE decode: `vae.decode(latents / scaling_factor)` per image, then clip(x/2 + 0.5) to 8-bit. */
export class VaeDecoder implements ImageDecoder {
  readonly scale = 8;
  private constructor(
    private readonly path: string,
    private readonly session: ort.InferenceSession,
    private readonly input: { name: string; type: FloatType },
    private readonly output: { name: string; type: FloatType },
    private readonly scalingFactor: number,
  ) {}

  static describe(path: string, session: ort.InferenceSession, scalingFactor: number): VaeDecoder {
    const latent = requireTensor(path, session.inputMetadata, 'input', { names: ['latent_sample'], types: [...FLOAT_TYPES], ranks: [4] });
    const image = requireTensor(path, session.outputMetadata, 'output', { names: ['sample'], types: [...FLOAT_TYPES], ranks: [4] });
    if (fixedDim(image, 1) !== undefined && fixedDim(image, 1) !== 3) {
      throw new ModelFileError(path, `output sample has ${fixedDim(image, 1)} channels, expected 3 (RGB)`);
    }
    const batch = fixedDim(latent, 0);
    if (batch !== undefined && batch !== 1) {
      throw new ModelFileError(path, `input latent_sample has a fixed batch of ${batch}; the engine decodes one image at a time, so it needs batch 1 or a free batch dimension`);
    }
    return new VaeDecoder(path, session, { name: latent.name, type: latent.type as FloatType }, { name: image.name, type: image.type as FloatType }, scalingFactor);
  }

  async decode(latents: Float32Array, shape: LatentShape, hooks: GenerationHooks): Promise<RgbImage[]> {
    const width = shape.width * this.scale;
    const height = shape.height * this.scale;
    const perImage = latentsPerImage(shape);
    const inverseScale = 1 / this.scalingFactor;
    const images: RgbImage[] = [];
    for (let i = 0; i < shape.count; i++) {
      const slice = latents.subarray(i * perImage, (i + 1) * perImage);
      const scaled = new Float32Array(slice.length);
      for (let j = 0; j < slice.length; j++) scaled[j] = inverseScale * slice[j]!;
      const dims = [1, shape.channels, shape.height, shape.width];
      const output = await runSession(this.session, { [this.input.name]: floatTensor(this.input.type, scaled, dims) }, 'vae_decoder');
      const pixels = readFloats(output[this.output.name], 'vae_decoder');
      assertFinite(pixels, 'vae_decoder', shape.count > 1 ? `for image ${i + 1} of ${shape.count}` : 'for the image', this.output.type);
      if (pixels.length !== 3 * width * height) {
        throw new ModelFileError(this.path, `decoded ${pixels.length} values, expected a 3×${height}×${width} image (the decoder must upsample ×8)`);
      }
      images.push(decodedToRgb(pixels, width, height));
      if (hooks.isCancelled()) throw cancelledError();
    }
    return images;
  }
}
