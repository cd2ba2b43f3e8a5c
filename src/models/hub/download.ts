import { open, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { HubClient, RequestContext } from './client.ts';
import { PullError, isNetworkError, networkError } from './errors.ts';
import { StreamingChecksum, describeChecksum } from './verify.ts';
import type { Checksum } from './verify.ts';

export const INCOMPLETE_SUFFIX = '.incomplete';

export interface DownloadTask {
  url: string;
  /** Final path; bytes land in `${dest}.incomplete` until verified. */
  dest: string;
  size: number;
  checksum?: Checksum;
  context: RequestContext & { file: string };
}

export interface DownloadOptions {
  client: HubClient;
  signal?: AbortSignal;
  /** Consecutive failures without progress tolerated before giving up. */
  retries: number;
  retryDelayMs: number;
  /** Bytes of this file on disk so far; can go down when a server forces a restart. */
  onBytes?: (fileBytes: number) => void;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

export interface DownloadOutcome {
  /** Bytes reused from a previous run's `.incomplete` (0 when the file started fresh). */
  resumedFrom: number;
}

const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);
const MAX_RETRY_DELAY_MS = 30_000;
const MAX_RESTARTS = 3;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Start of a `Content-Range: bytes 100-199/200` header, or undefined if unparseable. */
function contentRangeStart(header: string | null): number | undefined {
  const match = header ? /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/i.exec(header.trim()) : null;
  return match ? Number(match[1]) : undefined;
}

async function sizeOf(path: string): Promise<number | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ? info.size : undefined;
}

/**
 * Downloads one file into `<dest>.incomplete`, resuming what a previous run left there, retrying
 * dropped connections from the last byte written, and renaming into place only once size and
 * checksum match the listing.
 */
export async function downloadFile(task: DownloadTask, options: DownloadOptions): Promise<DownloadOutcome> {
  const { client, signal } = options;
  const part = task.dest + INCOMPLETE_SUFFIX;
  const hasher = new StreamingChecksum(task.checksum, task.size);

  let offset = (await sizeOf(part)) ?? 0;
  // 'a' keeps earlier bytes and creates the file if needed; truncate() handles restarts.
  const handle: FileHandle = await open(part, 'a');
  let resumedFrom = 0;
  try {
    if (offset > task.size) {
      await handle.truncate(0);
      offset = 0;
    } else if (offset > 0) {
      await hasher.updateFromFile(part, signal);
      resumedFrom = offset;
    }
    options.onBytes?.(offset);

    const restart = async (): Promise<void> => {
      await handle.truncate(0);
      hasher.reset();
      offset = 0;
      resumedFrom = 0;
      options.onBytes?.(0);
    };

    let failures = 0;
    let restarts = 0;
    const retryOrThrow = async (error: unknown, reason: string): Promise<void> => {
      if (signal?.aborted) throw error;
      failures++;
      if (failures > options.retries) throw error;
      const delayMs = Math.min(options.retryDelayMs * 2 ** (failures - 1), MAX_RETRY_DELAY_MS);
      options.onRetry?.({ attempt: failures, delayMs, reason });
      await sleep(delayMs, signal);
    };

    for (;;) {
      signal?.throwIfAborted();
      const headers: Record<string, string> = { 'accept-encoding': 'identity' };
      if (offset > 0) headers.range = `bytes=${offset}-`;

      let response: Response;
      try {
        response = await client.request(task.url, { headers, signal });
      } catch (error) {
        if (!isNetworkError(error)) throw error;
        await retryOrThrow(error, error instanceof Error ? error.message : String(error));
        continue;
      }

      if (response.status === 416 && offset > 0) {
        await response.body?.cancel();
        // The server has nothing past our offset: complete if the part is the listed size.
        if (offset === task.size) break;
        if (++restarts > MAX_RESTARTS) throw new PullError('http', `The server keeps refusing ranges for ${task.context.file}.`);
        await restart();
        continue;
      }
      if (RETRYABLE_STATUSES.has(response.status)) {
        const error = await client.errorFor(response, task.context);
        await retryOrThrow(error, `HTTP ${response.status}`);
        continue;
      }
      if (!response.ok || !response.body) throw await client.errorFor(response, task.context);

      const rangeStart = response.status === 206 ? contentRangeStart(response.headers.get('content-range')) : 0;
      if (rangeStart !== offset) {
        // A 200 to a range request (or a range we did not ask for) carries the file from byte 0.
        if (rangeStart !== 0) {
          await response.body.cancel();
          if (++restarts > MAX_RESTARTS) throw new PullError('http', `The server sends inconsistent ranges for ${task.context.file}.`);
          await restart();
          continue;
        }
        await restart();
      }

      const before = offset;
      try {
        for await (const chunk of response.body) {
          // Write first, hash second: the checksum must only ever cover bytes that are on disk.
          await handle.write(chunk);
          hasher.update(chunk);
          offset += chunk.byteLength;
          // Leaving the loop cancels the body; the size check below reports the overrun.
          if (offset > task.size) break;
          options.onBytes?.(offset);
        }
        break;
      } catch (error) {
        if (signal?.aborted || !isNetworkError(error)) throw error;
        if (offset > before) failures = 0;
        await retryOrThrow(networkError(error, new URL(response.url || task.url).origin), 'connection dropped');
      }
    }
  } finally {
    await handle.close();
  }

  if (offset !== task.size) {
    await rm(part, { force: true });
    throw new PullError(
      'checksum',
      `Size mismatch for ${task.context.file}: got ${offset} bytes, the listing says ${task.size}; deleted the partial file, run again to retry.`,
    );
  }
  const digest = hasher.digest();
  if (task.checksum && digest !== task.checksum.expected) {
    await rm(part, { force: true });
    throw new PullError(
      'checksum',
      `Checksum mismatch for ${task.context.file} (${describeChecksum(task.checksum)} ${digest} instead of ${task.checksum.expected}); deleted the corrupt download, run again to retry.`,
    );
  }
  await rename(part, task.dest);
  return { resumedFrom };
}
