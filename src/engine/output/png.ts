import { crc32, inflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { RgbImage } from '../types.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(data.length, 0);
  header.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([header.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([header, data, crc]);
}

function isLatin1(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\u0000-\u00ff]*$/.test(text);
}

/**
 * A text chunk as Pillow (and so AUTOMATIC1111) writes it: tEXt when the value is Latin-1,
 * else an uncompressed-flag-off iTXt carrying UTF-8.
 */
function textChunk(keyword: string, value: string): Buffer {
  if (isLatin1(value)) return chunk('tEXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(value, 'latin1')]));
  return chunk(
    'iTXt',
    Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(value, 'utf8')]),
  );
}

/** Inserts text chunks right after IHDR, where readers that stop early still find them. */
export function withTextChunks(png: Buffer, entries: Record<string, string>): Buffer {
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG');
  const ihdrEnd = 8 + 8 + png.readUInt32BE(8) + 4;
  const chunks = Object.entries(entries).map(([keyword, value]) => textChunk(keyword, value));
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

/** Every tEXt / zTXt / iTXt entry of a PNG. */
export function readTextChunks(png: Buffer): Record<string, string> {
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG');
  const out: Record<string, string> = {};
  let offset = 8;
  while (offset + 8 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    const nul = data.indexOf(0);
    if (nul > 0) {
      const keyword = data.toString('latin1', 0, nul);
      if (type === 'tEXt') out[keyword] = data.toString('latin1', nul + 1);
      if (type === 'zTXt') out[keyword] = inflateSync(data.subarray(nul + 2)).toString('latin1');
      if (type === 'iTXt') {
        const compressed = data[nul + 1] === 1;
        let rest = data.subarray(nul + 3);
        rest = rest.subarray(rest.indexOf(0) + 1); // language tag
        rest = rest.subarray(rest.indexOf(0) + 1); // translated keyword
        out[keyword] = (compressed ? inflateSync(rest) : rest).toString('utf8');
      }
    }
    if (type === 'IEND') break;
    offset += 12 + length;
  }
  return out;
}

export async function encodePng(image: RgbImage, parameters: string): Promise<Buffer> {
  const png = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .png()
    .toBuffer();
  return withTextChunks(png, { parameters });
}
