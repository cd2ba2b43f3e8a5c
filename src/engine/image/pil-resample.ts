/**
 * Pillow's `Image.resize` for 8-bit RGB (libImaging/Resample.c), reproduced to the byte: diffusers
 * resizes img2img init images with it (Lanczos) and CLIP's image processor resizes the safety
 * checker's input with it (bicubic). libvips' kernels of the same names give different pixels, so a
 * library resize would move every image away from diffusers'.
 *
 * Pillow resamples horizontally first, rounding to 8 bits, then vertically, each pass a convolution
 * whose support widens with the downscale factor (antialiasing), with weights in 22-bit fixed point.
 */
import type { RgbImage } from '../types.ts';

export type ResampleFilter = 'bilinear' | 'bicubic' | 'lanczos';

const PRECISION_BITS = 32 - 8 - 2;

interface Filter {
  support: number;
  weight(x: number): number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const FILTERS: Readonly<Record<ResampleFilter, Filter>> = {
  bilinear: {
    support: 1,
    weight(input) {
      const x = Math.abs(input);
      return x < 1 ? 1 - x : 0;
    },
  },
  bicubic: {
    support: 2,
    weight(input) {
      // Keys' cubic with a = -0.5, as Pillow's bicubic_filter.
      const a = -0.5;
      const x = Math.abs(input);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  lanczos: {
    support: 3,
    weight(x) {
      return x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
    },
  },
};

interface Coefficients {
  /** Per output pixel: first input index and how many inputs it reads. */
  bounds: Int32Array;
  /** Per output pixel, `kernelSize` fixed-point weights. */
  weights: Int32Array;
  kernelSize: number;
}

/** `precompute_coeffs` followed by `normalize_coeffs_8bpc`, for the whole input range. */
function coefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * kernelSize);
  const k = new Float64Array(kernelSize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    k.fill(0);
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * ss);
      k[x] = w;
      total += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? k[x]! / total : k[x]!;
      weights[xx * kernelSize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, weights, kernelSize };
}

function clip8(value: number): number {
  const shifted = Math.floor(value / (1 << PRECISION_BITS));
  return shifted < 0 ? 0 : shifted > 255 ? 255 : shifted;
}

/**
 * One convolution pass over RGB rows (`horizontal`) or columns. Accumulates in doubles: the sums of
 * 8-bit values times 22-bit weights stay far below 2^53, so they equal Pillow's 32-bit integer sums
 * wherever those do not overflow (Pillow keeps them in range by construction).
 */
function pass(src: Uint8Array, width: number, height: number, c: Coefficients, horizontal: boolean, outCount: number): Uint8Array {
  const outWidth = horizontal ? outCount : width;
  const outHeight = horizontal ? height : outCount;
  const out = new Uint8Array(outWidth * outHeight * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const o = horizontal ? x : y;
      const min = c.bounds[o * 2]!;
      const count = c.bounds[o * 2 + 1]!;
      const kOffset = o * c.kernelSize;
      let r = half;
      let g = half;
      let b = half;
      for (let i = 0; i < count; i++) {
        const w = c.weights[kOffset + i]!;
        const p = horizontal ? (y * width + min + i) * 3 : ((min + i) * width + x) * 3;
        r += src[p]! * w;
        g += src[p + 1]! * w;
        b += src[p + 2]! * w;
      }
      const q = (y * outWidth + x) * 3;
      out[q] = clip8(r);
      out[q + 1] = clip8(g);
      out[q + 2] = clip8(b);
    }
  }
  return out;
}

/** `image.resize((width, height), resample)` of Pillow for an RGB image; same size returns a copy. */
export function pilResize(image: RgbImage, width: number, height: number, filter: ResampleFilter): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resize target must be at least 1×1 whole pixels, got ${width}×${height}`);
  }
  const kernel = FILTERS[filter];
  let data = image.data;
  let currentWidth = image.width;
  if (width !== image.width) {
    data = pass(data, image.width, image.height, coefficients(image.width, width, kernel), true, width);
    currentWidth = width;
  }
  if (height !== image.height) {
    data = pass(data, currentWidth, image.height, coefficients(image.height, height, kernel), false, height);
  }
  return { width, height, data: data === image.data ? data.slice() : data };
}
