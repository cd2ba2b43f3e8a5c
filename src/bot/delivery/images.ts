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

/** One picture of a result as it is sent: its place in the job (1-based) and whether it goes behind a spoiler. */
export interface ShownPicture {
  png: Buffer;
  number: number;
  spoiler: boolean;
}

/** Discord covers an attachment whose name starts with SPOILER_ until the viewer clicks it. */
export const SPOILER_PREFIX = 'SPOILER_';

/**
 * The result images as attachments: PNG as the engine made them (with their parameters chunk;
 * small ones enlarged so Discord shows them at a visible size) when they fit Discord's upload
 * limit together, else WebP at the best quality that fits.
 */
export async function resultFiles(engineImages: readonly Buffer[], baseName: string, uploadLimitBytes: number): Promise<OutgoingFile[]> {
  const pictures = engineImages.map((png, index) => ({ png, number: index + 1, spoiler: false }));
  return pictureFiles(pictures, engineImages.length, baseName, uploadLimitBytes);
}

/** {@link resultFiles} for the pictures of a `count`-image job that are shown (numbered by their place in it). */
export async function pictureFiles(pictures: readonly ShownPicture[], count: number, baseName: string, uploadLimitBytes: number): Promise<OutgoingFile[]> {
  const pngs = await Promise.all(pictures.map((picture) => enlargeSmallPng(picture.png)));
  const name = (index: number, extension: string) => {
    const picture = pictures[index]!;
    return `${picture.spoiler ? SPOILER_PREFIX : ''}${count === 1 ? baseName : `${baseName}-${picture.number}`}.${extension}`;
  };
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

/** A withheld picture's place in a grid: plain grey, so the others keep their numbers. */
const WITHHELD_TILE = { r: 96, g: 96, b: 96 };

/** One image with the job's pictures in a grid (all the same size, as one job makes them); `undefined` leaves a grey tile. */
export async function gridImage(pngs: readonly (Buffer | undefined)[]): Promise<Buffer> {
  const first = pngs.find((png): png is Buffer => png !== undefined);
  const { width = 0, height = 0 } = first ? await sharp(first).metadata() : {};
  const { columns, rows } = gridLayout(pngs.length);
  const tiles = pngs.flatMap((input, index) => (input ? [{ input, left: (index % columns) * width, top: Math.floor(index / columns) * height }] : []));
  const background = pngs.some((png) => png === undefined) ? WITHHELD_TILE : { r: 0, g: 0, b: 0 };
  return sharp({ create: { width: width * columns, height: height * rows, channels: 3, background } })
    .composite(tiles)
    .webp({ quality: 85 })
    .toBuffer();
}

/**
 * The result message's attachments: for one image, that image; for several, a grid to look at (shown in
 * the embed) first, then each image for download, with its parameters chunk when it fits.
 */
export async function resultAttachments(pngs: readonly Buffer[], baseName: string, uploadLimitBytes: number): Promise<{ files: OutgoingFile[]; shownImage: string | undefined }> {
  return pictureAttachments(
    pngs.map((png, index) => ({ png, number: index + 1, spoiler: false })),
    pngs.length,
    baseName,
    uploadLimitBytes,
  );
}

/**
 * {@link resultAttachments} for the shown pictures of a `count`-image job. A withheld picture is left
 * out (a grey tile in the grid); a grid with a spoilered picture is a spoiler too, and no spoiler is
 * shown in the embed, which Discord never covers.
 */
export async function pictureAttachments(
  pictures: readonly ShownPicture[],
  count: number,
  baseName: string,
  uploadLimitBytes: number,
): Promise<{ files: OutgoingFile[]; shownImage: string | undefined }> {
  if (count <= 1 || pictures.length === 0) {
    const files = await pictureFiles(pictures, count, baseName, uploadLimitBytes);
    const shown = files[0];
    return { files, shownImage: shown && !shown.name.startsWith(SPOILER_PREFIX) ? shown.name : undefined };
  }
  // Enlarged first, so that a grid of small results (emoji-sd's 64×64) is as visible as one of them alone.
  const visible = await Promise.all(pictures.map(async (picture) => ({ ...picture, png: await enlargeSmallPng(picture.png) })));
  const bySlot = Array.from({ length: count }, (_, index) => visible.find((picture) => picture.number === index + 1)?.png);
  const spoiler = pictures.some((picture) => picture.spoiler);
  const grid: OutgoingFile = { name: `${spoiler ? SPOILER_PREFIX : ''}${baseName}-grid.webp`, data: await gridImage(bySlot) };
  const files = await pictureFiles(visible, count, baseName, Math.max(0, uploadLimitBytes - grid.data.length));
  return { files: [grid, ...files], shownImage: spoiler ? undefined : grid.name };
}
