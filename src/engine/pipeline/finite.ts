import { EngineError } from '../types.ts';

/** Index of the first NaN or ±Infinity, or -1. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}

/**
 * NaN or infinite output is a failure to report, never an image to deliver: a float16 network
 * that overflows (SDXL's VAE notably) would otherwise yield a black or noise picture as success.
 */
export function assertFinite(values: Float32Array, part: 'unet' | 'vae_decoder', where: string, precision: 'float32' | 'float16'): void {
  const index = firstNonFinite(values);
  if (index < 0) return;
  const kind = Number.isNaN(values[index]) ? 'NaN' : 'infinite';
  const advice =
    part === 'vae_decoder'
      ? precision === 'float16'
        ? 'a float16 VAE overflows on some latents (SDXL’s does): use the float32 VAE or an fp16-fix VAE (e.g. madebyollin/sdxl-vae-fp16-fix)'
        : 'the VAE weights may be damaged, or the latents were already out of range: try the float32 or an fp16-fix VAE'
      : precision === 'float16'
        ? 'a float16 UNet can overflow: try a float32 export, or the fp16-fix VAE if the model pairs them'
        : 'the UNet weights may be damaged';
  throw new EngineError('engine-failed', `the ${part === 'unet' ? 'UNet' : 'VAE decoder'} produced ${kind} values ${where}; ${advice}`);
}
