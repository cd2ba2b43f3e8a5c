import sharp from 'sharp';
import { readTextChunks, withTextChunks } from '../../engine/output/png.ts';
import type { RgbImage } from '../../engine/types.ts';
import type { OutgoingFile } from './discord-messenger.ts';

/**
 * Scales the engine's latent-resolution preview (e.g. 64×64) up so that its longer side is `size`
 * pixels. WebP keeps the frequent preview uploads small.
 */
export async function previewFile(preview: RgbImage, size = 256): Promise<OutgoingFile> {
  const scale = size / Math.max(preview.width, preview.height);
  const data = await sharp(Buffer.from(preview.data.buffer, preview.data.byteOffset, preview.data.byteLength), {
    raw: { width: preview.width, height: preview.height, channels: 3 },
  })
    .resize(Math.max(1, Math.round(preview.width * scale)), Math.max(1, Math.round(preview.height * scale)), { kernel: 'cubic' })
    .webp({ quality: 70 })
    .toBuffer();
  return { name: 'preview.webp', data };
}

/**
 * A result smaller than `minSide` (emoji-sd draws 64×64) would be a speck in Discord: enlarge it by
 * a whole factor with nearest-neighbour, so every model pixel stays a crisp square, and keep its
 * parameters text chunk. Larger images pass through untouched.
 */
export async function enlargeSmallPng(png: Buffer, minSide = 256): Promise<Buffer> {
  const { width, height } = await sharp(png).metadata();
  if (width === undefined || height === undefined || Math.max(width, height) >= minSide) return png;
  const factor = Math.ceil(minSide / Math.max(width, height));
  const enlarged = await sharp(png).resize(width * factor, height * factor, { kernel: 'nearest' }).png().toBuffer();
  return withTextChunks(enlarged, readTextChunks(png));
}

const WEBP_QUALITIES = [90, 80, 65, 50] as const;

/**
 * The result images as attachments: PNG as the engine made them (with their parameters chunk;
 * small ones enlarged so Discord shows them at a visible size) when they fit Discord's upload
 * limit together, else WebP at the best quality that fits.
 */
export async function resultFiles(engineImages: readonly Buffer[], baseName: string, uploadLimitBytes: number): Promise<OutgoingFile[]> {
  const pngs = await Promise.all(engineImages.map((png) => enlargeSmallPng(png)));
  const name = (index: number, extension: string) =>
    pngs.length === 1 ? `${baseName}.${extension}` : `${baseName}-${index + 1}.${extension}`;
  const total = (files: readonly OutgoingFile[]) => files.reduce((sum, file) => sum + file.data.length, 0);

  const asPng = pngs.map((data, index) => ({ name: name(index, 'png'), data }));
  if (total(asPng) <= uploadLimitBytes) return asPng;

  let smallest: OutgoingFile[] = asPng;
  for (const quality of WEBP_QUALITIES) {
    const asWebp = await Promise.all(
      pngs.map(async (png, index) => ({ name: name(index, 'webp'), data: await sharp(png).webp({ quality }).toBuffer() })),
    );
    smallest = asWebp;
    if (total(asWebp) <= uploadLimitBytes) break;
  }
  return smallest;
}
