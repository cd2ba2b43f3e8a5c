import { LIMITS, type ModelFamily } from '../../engine/types.ts';

export const SIZE_NAMES = ['square', 'portrait', 'landscape'] as const;
export type SizeName = (typeof SIZE_NAMES)[number];

export interface Dimensions {
  width: number;
  height: number;
}

/** What a size depends on: the chosen model's native size and family. */
export interface SizeBasis extends Dimensions {
  family?: ModelFamily;
}

const roundToMultiple = (value: number, multiple: number = LIMITS.sizeMultiple) => Math.max(multiple, Math.round(value / multiple) * multiple);

/**
 * Sizes relative to the model's native size. SDXL was trained on aspect buckets of about its native
 * area (1024² → 896×1152 and 1152×896), so it keeps the area at 7:9; SD 1.x/2.x models keep the short
 * side and make the long one 1.5× (512 → 512×768), since they degrade quickly beyond their training size.
 */
export function dimensionsFor(size: SizeName, native: SizeBasis): Dimensions {
  if (size === 'square') return { width: native.width, height: native.height };
  if (native.family === 'sdxl') {
    // SDXL's buckets are multiples of 64; miniature test models are too small for that.
    const multiple = Math.min(native.width, native.height) >= 512 ? 64 : LIMITS.sizeMultiple;
    const short = roundToMultiple((native.width * 7) / 8, multiple);
    const long = roundToMultiple((native.height * 9) / 8, multiple);
    return size === 'portrait' ? { width: short, height: long } : { width: long, height: short };
  }
  return size === 'portrait'
    ? { width: native.width, height: roundToMultiple(native.height * 1.5) }
    : { width: roundToMultiple(native.width * 1.5), height: native.height };
}

export function isSizeName(value: string): value is SizeName {
  return (SIZE_NAMES as readonly string[]).includes(value);
}
