import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { previewFile, resultFiles } from '../../src/bot/delivery/images.ts';
import { estimateRemainingMs } from '../../src/bot/delivery/job-messages.ts';

async function noisyPng(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

describe('images', () => {
  it('upscales the latent preview so that its longer side is 256 px', async () => {
    const preview = await previewFile({ width: 8, height: 12, data: new Uint8Array(8 * 12 * 3).fill(200) });
    const metadata = await sharp(preview.data).metadata();
    expect(preview.name).toBe('preview.webp');
    expect({ format: metadata.format, width: metadata.width, height: metadata.height }).toEqual({ format: 'webp', width: 171, height: 256 });
  });

  it('keeps PNGs that fit the upload limit', async () => {
    const png = await noisyPng(64, 64);
    const files = await resultFiles([png], 'imagine-1', 10 * 1024 * 1024);
    expect(files).toEqual([{ name: 'imagine-1.png', data: png }]);
  });

  it('switches to WebP when the PNGs together exceed the limit', async () => {
    const pngs = await Promise.all([noisyPng(256, 256), noisyPng(256, 256)]);
    const limit = pngs[0]!.length;
    const files = await resultFiles(pngs, 'imagine-2', limit);
    expect(files.map((file) => file.name)).toEqual(['imagine-2-1.webp', 'imagine-2-2.webp']);
    expect((await sharp(files[0]!.data).metadata()).format).toBe('webp');
  });

  it('estimates the time left from the average step', () => {
    expect(estimateRemainingMs({ step: 5, totalSteps: 20, elapsedMs: 1000 })).toBe(3000);
    expect(estimateRemainingMs({ step: 0, totalSteps: 20, elapsedMs: 0 })).toBe(0);
  });
});
