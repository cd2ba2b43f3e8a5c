/**
 * CLIPImageProcessor (transformers), the `feature_extractor` diffusers feeds its safety checker with,
 * configured by the folder's `feature_extractor/preprocessor_config.json`: the shortest side resized
 * to `size` with Pillow's filter, a centre crop, rescaling to [0, 1] and per-channel normalisation,
 * channel-first float32.
 */
import { ModelFileError, readJsonFile } from '../model/files.ts';
import { pilResize, type ResampleFilter } from '../image/pil-resample.ts';
import type { RgbImage } from '../types.ts';

export interface ClipPreprocessConfig {
  /** Target of the shortest side. */
  shortestEdge: number;
  cropWidth: number;
  cropHeight: number;
  resample: ResampleFilter;
  doResize: boolean;
  doCenterCrop: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  mean: [number, number, number];
  std: [number, number, number];
}

/** Pillow's resample codes, as the config stores them (`resample: 3` is bicubic). */
const PIL_FILTERS: Readonly<Record<number, ResampleFilter>> = { 1: 'lanczos', 2: 'bilinear', 3: 'bicubic' };
const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

function positiveInt(path: string, key: string, value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new ModelFileError(path, `"${key}" must be a positive whole number, got ${JSON.stringify(value)}`);
}

function triple(path: string, key: string, value: unknown, fallback: [number, number, number]): [number, number, number] {
  if (value === undefined || value === null) return fallback;
  if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return value as [number, number, number];
  }
  throw new ModelFileError(path, `"${key}" must be three numbers (one per RGB channel), got ${JSON.stringify(value)}`);
}

function flag(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

/** Reads preprocessor_config.json in either of its layouts (`size: 224`, or `size: {shortest_edge: 224}`). */
export function parseClipPreprocessConfig(path: string, raw: unknown): ClipPreprocessConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ModelFileError(path, 'must be a JSON object');
  const config = raw as Record<string, unknown>;
  const size = config.size ?? 224;
  const shortestEdge =
    typeof size === 'object' && size !== null
      ? positiveInt(path, 'size.shortest_edge', (size as Record<string, unknown>).shortest_edge)
      : positiveInt(path, 'size', size);
  const cropRaw = config.crop_size ?? 224;
  let cropWidth: number;
  let cropHeight: number;
  if (typeof cropRaw === 'object' && cropRaw !== null) {
    const crop = cropRaw as Record<string, unknown>;
    cropWidth = positiveInt(path, 'crop_size.width', crop.width);
    cropHeight = positiveInt(path, 'crop_size.height', crop.height);
  } else {
    cropWidth = cropHeight = positiveInt(path, 'crop_size', cropRaw);
  }
  const doResize = flag(config.do_resize, true);
  const doCenterCrop = flag(config.do_center_crop, true);
  if (doResize && doCenterCrop && (cropWidth > shortestEdge || cropHeight > shortestEdge)) {
    throw new ModelFileError(path, `crop_size ${cropWidth}×${cropHeight} is larger than the resized shortest side ${shortestEdge}; padding crops are not supported`);
  }
  const resampleCode = config.resample ?? 3;
  const resample = typeof resampleCode === 'number' ? PIL_FILTERS[resampleCode] : undefined;
  if (!resample) throw new ModelFileError(path, `"resample" ${JSON.stringify(resampleCode)} is not supported (1 Lanczos, 2 bilinear or 3 bicubic)`);
  const rescaleFactor = config.rescale_factor ?? 1 / 255;
  if (typeof rescaleFactor !== 'number' || !(rescaleFactor > 0)) throw new ModelFileError(path, `"rescale_factor" must be a positive number`);
  if (config.do_rescale === false) throw new ModelFileError(path, '"do_rescale": false is not supported');
  return {
    shortestEdge,
    cropWidth,
    cropHeight,
    resample,
    doResize,
    doCenterCrop,
    rescaleFactor,
    doNormalize: flag(config.do_normalize, true),
    mean: triple(path, 'image_mean', config.image_mean, CLIP_MEAN),
    std: triple(path, 'image_std', config.image_std, CLIP_STD),
  };
}

export async function readClipPreprocessConfig(path: string): Promise<ClipPreprocessConfig> {
  return parseClipPreprocessConfig(path, await readJsonFile<unknown>(path));
}

/** `get_resize_output_image_size(default_to_square=False)`: the shortest side to `edge`, the other scaled and truncated. */
function shortestEdgeSize(width: number, height: number, edge: number): { width: number; height: number } {
  const portrait = width <= height;
  const short = portrait ? width : height;
  const long = portrait ? height : width;
  if (short === edge) return { width, height };
  const newLong = Math.trunc((edge * long) / short);
  return portrait ? { width: edge, height: newLong } : { width: newLong, height: edge };
}

/** `CLIPImageProcessor.preprocess(image).pixel_values[0]`: [3, cropHeight, cropWidth] float32. */
export function clipPixels(image: RgbImage, config: ClipPreprocessConfig): Float32Array {
  let resized = image;
  if (config.doResize) {
    const size = shortestEdgeSize(image.width, image.height, config.shortestEdge);
    resized = pilResize(image, size.width, size.height, config.resample);
  }
  let top = 0;
  let left = 0;
  let outWidth = resized.width;
  let outHeight = resized.height;
  if (config.doCenterCrop) {
    if (config.cropWidth > resized.width || config.cropHeight > resized.height) {
      throw new RangeError(`image ${resized.width}×${resized.height} is smaller than the ${config.cropWidth}×${config.cropHeight} crop`);
    }
    top = Math.floor((resized.height - config.cropHeight) / 2);
    left = Math.floor((resized.width - config.cropWidth) / 2);
    outWidth = config.cropWidth;
    outHeight = config.cropHeight;
  }
  const plane = outWidth * outHeight;
  const out = new Float32Array(3 * plane);
  const mean = config.mean.map(Math.fround);
  const std = config.std.map(Math.fround);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const source = ((y + top) * resized.width + (x + left)) * 3;
      for (let c = 0; c < 3; c++) {
        // rescale multiplies in float64 and stores float32; normalise is float32 throughout.
        const value = Math.fround(resized.data[source + c]! * config.rescaleFactor);
        out[c * plane + y * outWidth + x] = config.doNormalize ? Math.fround(value - mean[c]!) / std[c]! : value;
      }
    }
  }
  return out;
}
