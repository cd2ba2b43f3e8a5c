import { roundHalfEven } from '../schedulers/noise-schedule.ts';
import type { RgbImage } from '../types.ts';

/**
 * Linear map from SD 1.x/2.x latent channels to RGB (the widely used approximation from the
 * AUTOMATIC1111 / ComfyUI previews): good enough to watch an image form without a VAE decode.
 */
type Rgb = readonly [number, number, number];
export type LatentRgbFactors = readonly [Rgb, Rgb, Rgb, Rgb];
export const SD_LATENT_RGB_FACTORS: LatentRgbFactors = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];
/** SDXL's VAE has its own latent space; the same kind of fit (ComfyUI's) for it. */
export const SDXL_LATENT_RGB_FACTORS: LatentRgbFactors = [
  [0.3651, 0.4232, 0.4341],
  [-0.2533, -0.0042, 0.1068],
  [0.1076, 0.1111, -0.0362],
  [-0.3165, -0.2492, -0.2188],
];

/** Preview of the first image in a batch of [n, 4, h, w] latents, at latent resolution (1/8 of the image). */
export function latentPreview(latents: Float32Array, latentWidth: number, latentHeight: number, factors: LatentRgbFactors = SD_LATENT_RGB_FACTORS): RgbImage {
  const plane = latentWidth * latentHeight;
  const data = new Uint8Array(plane * 3);
  const [f0, f1, f2, f3] = factors;
  for (let p = 0; p < plane; p++) {
    const l0 = latents[p]!;
    const l1 = latents[plane + p]!;
    const l2 = latents[2 * plane + p]!;
    const l3 = latents[3 * plane + p]!;
    for (let c = 0; c < 3; c++) {
      const value = l0 * f0[c]! + l1 * f1[c]! + l2 * f2[c]! + l3 * f3[c]!;
      const byte = Math.round((value + 1) * 127.5);
      data[p * 3 + c] = byte < 0 ? 0 : byte > 255 ? 255 : byte;
    }
  }
  return { width: latentWidth, height: latentHeight, data };
}

/** VAE output ([1, 3, H, W] in [-1, 1]) to 8-bit RGB exactly as diffusers: clip(x/2 + 0.5) * 255, rounded. */
export function decodedToRgb(pixels: Float32Array, width: number, height: number): RgbImage {
  const plane = width * height;
  const data = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const offset = c * plane;
    for (let p = 0; p < plane; p++) {
      let v = Math.fround(Math.fround(pixels[offset + p]! / 2) + 0.5);
      v = v < 0 ? 0 : v > 1 ? 1 : v;
      data[p * 3 + c] = roundHalfEven(Math.fround(v * 255));
    }
  }
  return { width, height, data };
}
