import type { IncomingHttpHeaders } from 'node:http';

export interface UploadedFile {
  /** Form field name, e.g. `files[0]`. */
  field: string;
  /** `n` of a `files[n]` field: the id an `attachments` entry refers to. */
  index: number | null;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface ParsedBody {
  kind: 'empty' | 'json' | 'multipart' | 'other';
  json: unknown;
  files: UploadedFile[];
  size: number;
}

export class BodyParseError extends Error {}

/**
 * Discord accepts either a JSON body or multipart/form-data whose `payload_json` part carries the
 * JSON and whose `files[n]` parts carry uploads. The web-standard Request parser already knows the
 * multipart grammar (boundaries, quoting, binary parts), so it is reused instead of a hand parser.
 */
export async function parseBody(headers: IncomingHttpHeaders, raw: Buffer): Promise<ParsedBody> {
  const contentType = headers['content-type'] ?? '';
  if (raw.length === 0) return { kind: 'empty', json: undefined, files: [], size: 0 };
  if (contentType.startsWith('application/json')) {
    try {
      return { kind: 'json', json: JSON.parse(raw.toString('utf8')) as unknown, files: [], size: raw.length };
    } catch {
      throw new BodyParseError('The request body contains invalid JSON.');
    }
  }
  if (contentType.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Request('http://fake.invalid/', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: raw,
      }).formData();
    } catch (error) {
      throw new BodyParseError(`Malformed multipart body: ${(error as Error).message}`);
    }
    let json: Record<string, unknown> = {};
    const files: UploadedFile[] = [];
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') {
          try {
            json = { ...json, ...(JSON.parse(value) as Record<string, unknown>) };
          } catch {
            throw new BodyParseError('payload_json is not valid JSON.');
          }
        } else {
          json[field] = value;
        }
        continue;
      }
      const data = Buffer.from(await value.arrayBuffer());
      const match = /^files\[(\d+)\]$/.exec(field);
      files.push({
        field,
        index: match ? Number(match[1]) : null,
        filename: value.name || field,
        contentType: sniffContentType(data) ?? (value.type || guessFromName(value.name)),
        data,
      });
    }
    return { kind: 'multipart', json, files, size: raw.length };
  }
  return { kind: 'other', json: undefined, files: [], size: raw.length };
}

// Discord reports the content type it detects, not the one the client claims.
export function sniffContentType(data: Buffer): string | undefined {
  if (data.length >= 8 && data.readUInt32BE(0) === 0x89504e47) return 'image/png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.length >= 6 && data.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  if (data.length >= 12 && data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP') {
    return 'image/webp';
  }
  return undefined;
}

function guessFromName(name: string): string {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  const known: Record<string, string> = {
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    gif: 'image/gif',
    webp: 'image/webp',
    txt: 'text/plain; charset=utf-8',
    json: 'application/json; charset=utf-8',
  };
  return known[ext] ?? 'application/octet-stream';
}

/** Width/height for the image types Discord reports dimensions for (PNG, GIF, JPEG, WebP VP8X/VP8/VP8L). */
export function imageSize(data: Buffer, contentType: string): { width: number; height: number } | undefined {
  try {
    if (contentType === 'image/png' && data.length >= 24) {
      return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
    }
    if (contentType === 'image/gif' && data.length >= 10) {
      return { width: data.readUInt16LE(6), height: data.readUInt16LE(8) };
    }
    if (contentType === 'image/jpeg') {
      let offset = 2;
      while (offset + 9 < data.length) {
        if (data[offset] !== 0xff) return undefined;
        const marker = data[offset + 1]!;
        const length = data.readUInt16BE(offset + 2);
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
          return { height: data.readUInt16BE(offset + 5), width: data.readUInt16BE(offset + 7) };
        }
        offset += 2 + length;
      }
      return undefined;
    }
    if (contentType === 'image/webp' && data.length >= 30) {
      const chunk = data.subarray(12, 16).toString('latin1');
      if (chunk === 'VP8X') return { width: 1 + data.readUIntLE(24, 3), height: 1 + data.readUIntLE(27, 3) };
      if (chunk === 'VP8 ') return { width: data.readUInt16LE(26) & 0x3fff, height: data.readUInt16LE(28) & 0x3fff };
      if (chunk === 'VP8L') {
        const bits = data.readUInt32LE(21);
        return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}
