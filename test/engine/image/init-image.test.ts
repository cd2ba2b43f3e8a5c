import { readFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeInitImage, fitInitImage, initImageOutputSize, initImageTensor } from '../../../src/engine/image/init-image.ts';
import { EngineError } from '../../../src/engine/types.ts';

function raw(width: number, height: number, channels: 3 | 4, pixel: (x: number, y: number) => number[]) {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * channels);
  return sharp(data, { raw: { width, height, channels } });
}

async function rejection(promise: Promise<unknown>): Promise<EngineError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineError);
  expect((error as EngineError).code).toBe('invalid-request');
  return error as EngineError;
}

describe('decodeInitImage', () => {
  it('drops alpha as Pillow convert("RGB") does, keeping the colour stored under transparent pixels', async () => {
    const png = await raw(4, 2, 4, (x) => (x < 2 ? [200, 100, 50, 0] : [10, 20, 30, 255])).png().toBuffer();
    const image = await decodeInitImage(png);
    expect(image).toMatchObject({ width: 4, height: 2 });
    expect(Array.from(image.data.subarray(0, 3))).toEqual([200, 100, 50]);
    expect(Array.from(image.data.subarray(9, 12))).toEqual([10, 20, 30]);
  });

  it('applies the EXIF orientation of a JPEG (6: rotate 90° clockwise)', async () => {
    const jpeg = await raw(16, 8, 3, (x) => (x < 8 ? [255, 0, 0] : [0, 0, 255]))
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const image = await decodeInitImage(jpeg);
    expect(image).toMatchObject({ width: 8, height: 16 });
    const top = image.data.subarray((2 * 8 + 4) * 3, (2 * 8 + 4) * 3 + 3);
    const bottom = image.data.subarray((13 * 8 + 4) * 3, (13 * 8 + 4) * 3 + 3);
    expect(top[0]).toBeGreaterThan(200);
    expect(bottom[2]).toBeGreaterThan(200);
  });

  it('reads WebP and greyscale PNG as RGB', async () => {
    const webp = await raw(8, 8, 3, () => [0, 255, 0]).webp({ lossless: true }).toBuffer();
    expect(Array.from((await decodeInitImage(webp)).data.subarray(0, 3))).toEqual([0, 255, 0]);
    const grey = await raw(8, 8, 3, () => [90, 90, 90]).toColourspace('b-w').png().toBuffer();
    const image = await decodeInitImage(grey);
    expect(image.data.length).toBe(8 * 8 * 3);
    expect(Array.from(image.data.subarray(0, 3))).toEqual([90, 90, 90]);
  });

  it('refuses what is not an image, other formats, empty and truncated files with one clear line', async () => {
    expect((await rejection(decodeInitImage(new TextEncoder().encode('hello, not an image')))).message).toBe(
      'init image: not a PNG, JPEG or WebP image',
    );
    expect((await rejection(decodeInitImage(new Uint8Array(0)))).message).toBe('init image: the file is empty');
    const gif = await raw(8, 8, 3, () => [1, 2, 3]).gif().toBuffer();
    expect((await rejection(decodeInitImage(gif))).message).toMatch(/^init image: gif images are not accepted; use PNG, JPEG or WebP$/);
    const png = await raw(64, 64, 3, (x, y) => [x * 4, y * 4, 7]).png({ compressionLevel: 0 }).toBuffer();
    const truncated = (await rejection(decodeInitImage(png.subarray(0, Math.floor(png.length / 2))))).message;
    expect(truncated).toMatch(/^init image: the PNG file is damaged or truncated/);
    expect(truncated).not.toContain('\n');
  });

  it('refuses an image too large to read from its header alone, before decoding it', async () => {
    const png = Buffer.from(await raw(8, 8, 3, () => [1, 2, 3]).png().toBuffer());
    // IHDR is the first chunk: width and height at bytes 16..23, its CRC (over type and data) at 29..32.
    png.writeUInt32BE(20000, 16);
    png.writeUInt32BE(10000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    expect((await rejection(decodeInitImage(png))).message).toBe('init image is 20000×10000, too large to read (at most 67,108,864 pixels); scale it down first');
  });
});

describe("decodeInitImage equals Pillow's load_image (exif_transpose, convert RGB)", () => {
  for (const [file, pixels] of [
    ['rotated.jpg', 'rotated.jpg.24x40.rgb'],
    ['lossy.webp', 'lossy.webp.40x24.rgb'],
  ] as const) {
    it(file, async () => {
      const fixture = (name: string) => readFile(new URL(`../../fixtures/pil-decode/${name}`, import.meta.url));
      const image = await decodeInitImage(await fixture(file));
      const [width, height] = pixels.split('.').at(-2)!.split('x').map(Number);
      expect(image).toMatchObject({ width, height });
      expect(Buffer.from(image.data).equals(await fixture(pixels))).toBe(true);
    });
  }
});

describe('output size and tensor', () => {
  it('takes the image size rounded down to multiples of 8 unless width and height are given', () => {
    expect(initImageOutputSize({ width: 100, height: 67 })).toEqual({ width: 96, height: 64 });
    expect(initImageOutputSize({ width: 100, height: 67 }, 40)).toEqual({ width: 40, height: 64 });
    expect(initImageOutputSize({ width: 100, height: 67 }, 41, 30)).toEqual({ width: 40, height: 24 });
    expect(() => initImageOutputSize({ width: 7, height: 300 })).toThrow('init image is 7×300; img2img needs at least 8×8 pixels');
    expect(() => initImageOutputSize({ width: 5000, height: 300 })).toThrow(/over the 4096-pixel limit/);
  });

  it('fits by Lanczos resize and scales pixels to [-1, 1] channel-first', () => {
    const image = { width: 2, height: 1, data: Uint8Array.of(0, 255, 51, 255, 0, 102) };
    expect(Array.from(initImageTensor(image))).toEqual([-1, 1, 1, -1, Math.fround(Math.fround(2 * Math.fround(51 / 255)) - 1), Math.fround(Math.fround(2 * Math.fround(102 / 255)) - 1)]);
    const fitted = fitInitImage({ width: 16, height: 16, data: new Uint8Array(16 * 16 * 3).fill(77) }, 8, 8);
    expect(fitted.width * fitted.height).toBe(64);
    expect(fitted.data.every((v) => v === 77)).toBe(true);
  });
});
