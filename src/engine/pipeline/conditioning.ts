import type * as ort from 'onnxruntime-node';

/**
 * What a family's prompt encoding hands the denoising loop: how the UNet batch is laid out and
 * the conditioning feeds for each call. The loop itself knows nothing of prompts or families.
 */
export interface UnetConditioning {
  /**
   * UNet rows per image: 2 under classifier-free guidance, laid out [negative × count; positive × count]
   * as diffusers concatenates them; 1 otherwise.
   */
  readonly rowsPerImage: 1 | 2;
  /** The guidance scale combining the two halves when rowsPerImage is 2. */
  readonly guidance: number;
  /** The UNet inputs besides `sample` and `timestep` for a call at `timestep`, batched as above. */
  feeds(timestep: number): Readonly<Record<string, ort.Tensor>>;
}

/** Conditioning that is the same tensors at every step (text embeddings, SDXL's added conditions). */
export function fixedConditioning(rowsPerImage: 1 | 2, guidance: number, tensors: Readonly<Record<string, ort.Tensor>>): UnetConditioning {
  return { rowsPerImage, guidance, feeds: () => tensors };
}
