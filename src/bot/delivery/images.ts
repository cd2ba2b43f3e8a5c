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

/** Side by side for two, 2×2 for three or four: as Midjourney shows its four. */
export function gridLayout(count: number): { columns: number; rows: number } {
  const columns = count === 1 ? 1 : 2;
  return { columns, rows: Math.ceil(count / columns) };
}

/** One image with the job's pictures in a grid (all the same size, as one job makes them). */
export async function gridImage(pngs: readonly Buffer[]): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(pngs[0]).metadata();
  const { columns, rows } = gridLayout(pngs.length);
  return sharp({ create: { width: width * columns, height: height * rows, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .composite(pngs.map((input, index) => ({ input, left: (index % columns) * width, top: Math.floor(index / columns) * height })))
    .webp({ quality: 85 })
    .toBuffer();
}

/**
 * The result message's attachments: for one image, that image; for several, a grid to look at (shown in
 * the embed) first, then each image for download, with its parameters chunk when it fits.
 */
export async function resultAttachments(pngs: readonly Buffer[], baseName: string, uploadLimitBytes: number): Promise<{ files: OutgoingFile[]; shownImage: string | undefined }> {
  if (pngs.length <= 1) {
    const files = await resultFiles(pngs, baseName, uploadLimitBytes);
    return { files, shownImage: files[0]?.name };
  }
  // Enlarged first, so that a grid of small results (emoji-sd's 64×64) is as visible as one of them alone.
  const visible = await Promise.all(pngs.map((png) => enlargeSmallPng(png)));
  const grid: OutgoingFile = { name: `${baseName}-grid.webp`, data: await gridImage(visible) };
  const files = await resultFiles(visible, baseName, Math.max(0, uploadLimitBytes - grid.data.length));
  return { files: [grid, ...files], shownImage: grid.name };
}
