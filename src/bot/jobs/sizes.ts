import { LIMITS } from '../../engine/types.ts';

export const SIZE_NAMES = ['square', 'portrait', 'landscape'] as const;
export type SizeName = (typeof SIZE_NAMES)[number];

export interface Dimensions {
  width: number;
  height: number;
}

const roundToMultiple = (value: number) => Math.round(value / LIMITS.sizeMultiple) * LIMITS.sizeMultiple;

/**
 * Sizes relative to the model's native size: the long side of portrait/landscape is 1.5× native
 * (512 → 512×768), since SD models degrade quickly much beyond their training resolution.
 */
export function dimensionsFor(size: SizeName, native: Dimensions): Dimensions {
  switch (size) {
    case 'square':
      return { width: native.width, height: native.height };
    case 'portrait':
      return { width: native.width, height: roundToMultiple(native.height * 1.5) };
    case 'landscape':
      return { width: roundToMultiple(native.width * 1.5), height: native.height };
  }
}

export function isSizeName(value: string): value is SizeName {
  return (SIZE_NAMES as readonly string[]).includes(value);
}
