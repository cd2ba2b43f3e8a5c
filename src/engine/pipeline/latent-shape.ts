/** The latents of one run: `count` images of channels × height × width (NCHW, row-major). */
export interface LatentShape {
  count: number;
  channels: number;
  height: number;
  width: number;
}

export function latentsPerImage(shape: LatentShape): number {
  return shape.channels * shape.height * shape.width;
}

/** Repeats one row `times` along the batch axis (diffusers' `repeat`/`np.repeat(axis=0)` of one prompt). */
export function repeatRows(row: Float32Array, times: number): Float32Array {
  const out = new Float32Array(row.length * times);
  for (let i = 0; i < times; i++) out.set(row, i * row.length);
  return out;
}

/** Rows stacked along the batch axis in order (torch.cat(dim=0)). */
export function concatRows(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
