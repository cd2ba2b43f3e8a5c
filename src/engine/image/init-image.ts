/**
 * The img2img starting image, prepared as diffusers prepares it: `load_image` (EXIF orientation applied,
 * `convert("RGB")`, which drops an alpha channel rather than compositing it) and then
 * `VaeImageProcessor.preprocess` (size rounded down to a multiple of 8, Pillow Lanczos resize, pixels
 * scaled to [-1, 1] in channel-first float32).
 */
import sharp from 'sharp';
import { EngineError, LIMITS, type RgbImage } from '../types.ts';
import { pilResize } from './pil-resample.ts';

const ACCEPTED_FORMATS = new Set(['png', 'jpeg', 'webp']);
/** Decoding is refused above this many pixels (e.g. 8192 × 8192): the output is at most 4096² anyway. */
const MAX_INPUT_PIXELS = 8192 * 8192;

function invalid(message: string, cause?: unknown): EngineError {
  return new EngineError('invalid-request', message, cause === undefined ? undefined : { cause });
}

/**
 * Decodes PNG, JPEG or WebP bytes to 8-bit RGB with the EXIF orientation applied. Alpha is dropped
 * (Pillow's RGBA → RGB keeps the stored colour of transparent pixels) and an embedded ICC profile is
 * not applied, both as `PIL.Image.convert("RGB")` does.
 */
export async function decodeInitImage(bytes: Uint8Array): Promise<RgbImage> {
  if (bytes.byteLength === 0) throw invalid('init image: the file is empty');
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: string | undefined;
  let width = 0;
  let height = 0;
  try {
    ({ format, width = 0, height = 0 } = await sharp(input, { limitInputPixels: false }).metadata());
  } catch (error) {
    throw invalid('init image: not a PNG, JPEG or WebP image', error);
  }
  if (format === undefined || !ACCEPTED_FORMATS.has(format)) {
    throw invalid(`init image: ${format ?? 'unknown'} images are not accepted; use PNG, JPEG or WebP`);
  }
  if (width * height > MAX_INPUT_PIXELS) {
    throw invalid(`init image is ${width}×${height}, too large to read (at most ${MAX_INPUT_PIXELS.toLocaleString('en-US')} pixels); scale it down first`);
  }
  try {
    const { data, info } = await sharp(input, { failOn: 'error', ignoreIcc: true, animated: false, limitInputPixels: MAX_INPUT_PIXELS })
      .autoOrient()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (error) {
    const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw invalid(`init image: the ${format.toUpperCase()} file is damaged or truncated (${detail})`, error);
  }
}

/**
 * The output size for an init image: the requested width and height where given, else the image's own
 * size, each rounded down to a multiple of 8 (`VaeImageProcessor.get_default_height_width`).
 */
export function initImageOutputSize(image: { width: number; height: number }, width?: number, height?: number): { width: number; height: number } {
  const round = (value: number) => value - (value % LIMITS.sizeMultiple);
  const size = { width: round(width ?? image.width), height: round(height ?? image.height) };
  const { min, max } = LIMITS.size;
  if (size.width < min || size.height < min) {
    throw invalid(`init image is ${image.width}×${image.height}; img2img needs at least ${min}×${min} pixels`);
  }
  if (size.width > max || size.height > max) {
    throw invalid(`init image is ${image.width}×${image.height}, over the ${max}-pixel limit; ask for a smaller width and height to scale it down`);
  }
  return size;
}

/** Pillow's Lanczos resize to the output size, as `VaeImageProcessor.resize` does it (a copy when already that size). */
export function fitInitImage(image: RgbImage, width: number, height: number): RgbImage {
  return pilResize(image, width, height, 'lanczos');
}

/** `2 * (pixels / 255) - 1` in float32, channel-first [3, H, W]: the VAE encoder's input for one image. */
export function initImageTensor(image: RgbImage): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[c * plane + p] = Math.fround(2 * Math.fround(image.data[p * 3 + c]! / 255)) - 1;
  }
  return out;
}
