import sharp, { type Metadata } from 'sharp';

/** Discord's CDN hosts: attachment URLs in interactions point at these. */
export const DISCORD_CDN_HOSTS = ['cdn.discordapp.com', 'media.discordapp.net'] as const;

export interface AttachmentLimits {
  /** Hosts (hostname, or hostname:port) an attachment may be fetched from. */
  hosts: readonly string[];
  maxBytes: number;
  /** width × height of the decoded image. */
  maxPixels: number;
  timeoutMs: number;
}

export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = {
  hosts: DISCORD_CDN_HOSTS,
  maxBytes: 10 * 1024 * 1024,
  // 4096² is the engine's largest size; anything larger would only be scaled down.
  maxPixels: 4096 * 4096,
  timeoutMs: 10_000,
};

/** An attachment as Discord described it in the interaction (never a URL a user typed). */
export interface AttachmentRef {
  url: string;
  filename: string;
  size: number;
  contentType?: string | null | undefined;
  width?: number | null | undefined;
  height?: number | null | undefined;
}

export type AttachmentCheck = { ok: true } | { ok: false; message: string };
export type FetchedAttachment = { ok: true; data: Buffer; width: number; height: number } | { ok: false; message: string };

const IMAGE_TYPES = new Map([
  ['image/png', 'png'],
  ['image/jpeg', 'jpeg'],
  ['image/webp', 'webp'],
]);

const mebibytes = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
const megapixels = (pixels: number) => `${Math.round(pixels / 100_000) / 10} megapixels`;

function hostAllowed(url: URL, hosts: readonly string[]): boolean {
  return hosts.some((host) => host.toLowerCase() === url.host.toLowerCase() || host.toLowerCase() === url.hostname.toLowerCase());
}

/**
 * What can be told from Discord's description alone, before anything is downloaded (and before the
 * interaction is acknowledged): type, size, dimensions, and where it lives.
 */
export function checkAttachment(ref: AttachmentRef, limits: AttachmentLimits): AttachmentCheck {
  const type = (ref.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!IMAGE_TYPES.has(type)) return { ok: false, message: `${ref.filename} is not a PNG, JPEG or WebP image.` };
  if (ref.size > limits.maxBytes) return { ok: false, message: `${ref.filename} is ${mebibytes(ref.size)}: images may be at most ${mebibytes(limits.maxBytes)}.` };
  if (ref.width && ref.height && ref.width * ref.height > limits.maxPixels) {
    return { ok: false, message: `${ref.filename} is ${ref.width}×${ref.height}: images may have at most ${megapixels(limits.maxPixels)}.` };
  }
  let url: URL;
  try {
    url = new URL(ref.url);
  } catch {
    return { ok: false, message: `I cannot read the address of ${ref.filename}.` };
  }
  if (!/^https?:$/.test(url.protocol) || !hostAllowed(url, limits.hosts)) {
    return { ok: false, message: `${ref.filename} is not on Discord's attachment servers, so I will not fetch it.` };
  }
  return { ok: true };
}

async function readCapped(response: Response, maxBytes: number): Promise<Buffer | undefined> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > maxBytes) return undefined;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/**
 * Downloads an attachment checked by {@link checkAttachment}, and checks what arrived: within the byte
 * limit as it streams (a server may lie about the size), an image by its own bytes (not its name or
 * declared type), within the pixel limit. Redirects are refused: they could lead off the accepted hosts.
 */
export async function fetchAttachment(ref: AttachmentRef, limits: AttachmentLimits): Promise<FetchedAttachment> {
  const check = checkAttachment(ref, limits);
  if (!check.ok) return check;
  let data: Buffer | undefined;
  try {
    const response = await fetch(ref.url, { redirect: 'error', signal: AbortSignal.timeout(limits.timeoutMs) });
    if (!response.ok) return { ok: false, message: `I could not download ${ref.filename} (HTTP ${response.status}).` };
    data = await readCapped(response, limits.maxBytes);
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { ok: false, message: timedOut ? `Downloading ${ref.filename} took too long.` : `I could not download ${ref.filename}.` };
  }
  if (!data) return { ok: false, message: `${ref.filename} is larger than ${mebibytes(limits.maxBytes)}.` };
  let metadata: Metadata;
  try {
    // Header only: the pixel limit is checked before anything is decoded.
    metadata = await sharp(data, { limitInputPixels: false }).metadata();
  } catch {
    return { ok: false, message: `${ref.filename} is not a PNG, JPEG or WebP image.` };
  }
  const { format, width, height } = metadata;
  if (![...IMAGE_TYPES.values()].includes(format) || !width || !height) {
    return { ok: false, message: `${ref.filename} is not a PNG, JPEG or WebP image.` };
  }
  if (width * height > limits.maxPixels) {
    return { ok: false, message: `${ref.filename} is ${width}×${height}: images may have at most ${megapixels(limits.maxPixels)}.` };
  }
  return { ok: true, data, width, height };
}
