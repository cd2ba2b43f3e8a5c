import { open, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { downloadFile as hubDownloadFile } from '@huggingface/hub';
import type { FetchRecord, HubClient, RequestContext } from './client.ts';
import { PullError, isNetworkError, networkError } from './errors.ts';
import { StreamingChecksum, describeChecksum } from './verify.ts';
import type { Checksum } from './verify.ts';

export const INCOMPLETE_SUFFIX = '.incomplete';

export interface DownloadTask {
  repo: string;
  /** The commit (or revision) every file of the pull comes from. */
  ref: string;
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

const RESTART = Symbol('restart');

/** Read through a function: the record changes behind TypeScript's back, inside our fetch. */
function answered(record: FetchRecord): Response | undefined {
  return record.response;
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

    // @huggingface/hub's Blob over the file: each slice is one Range request through our fetch.
    // The listing already gave size and checksum, so the library's probe request is skipped.
    const record: FetchRecord = { context: task.context, signal };
    const blob = await hubDownloadFile({
      repo: task.repo,
      path: task.context.file,
      revision: task.ref,
      hubUrl: client.endpoint,
      fetch: client.fetchFor(record),
      xet: false,
      downloadInfo: { url: client.resolveUrl(task.repo, task.ref, task.context.file), size: task.size, etag: task.checksum?.expected ?? '' },
    });
    if (!blob) throw new PullError('file-not-found', `${task.context.file} not found in ${task.repo} at revision ${task.ref}.`);

    /** Streams the rest of the file from `offset`; RESTART when the server sent it from byte 0 instead. */
    const streamFrom = async (): Promise<typeof RESTART | undefined> => {
      record.response = undefined;
      record.error = undefined;
      const reader = blob.slice(offset).stream().getReader();
      let checked = false;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          // Set by our fetch once the response arrived (the first read waits for it).
          const response = answered(record);
          if (!checked && response) {
            checked = true;
            const rangeStart = response.status === 206 ? contentRangeStart(response.headers.get('content-range')) : 0;
            if (rangeStart !== offset) {
              // A 200 to a range request (or a range we did not ask for) carries the file from byte 0.
              if (rangeStart !== 0) return RESTART;
              await restart();
            }
          }
          if (done) return undefined;
          // Write first, hash second: the checksum must only ever cover bytes that are on disk.
          await handle.write(value);
          hasher.update(value);
          offset += value.byteLength;
          // Leaving the loop cancels the body; the size check below reports the overrun.
          if (offset > task.size) return undefined;
          options.onBytes?.(offset);
        }
      } finally {
        reader.releaseLock();
      }
    };

    for (;;) {
      signal?.throwIfAborted();
      // Nothing past the offset to ask for: the part file is complete.
      if (offset === task.size) break;
      const before = offset;
      try {
        if ((await streamFrom()) === RESTART) {
          if (++restarts > MAX_RESTARTS) throw new PullError('http', `The server sends inconsistent ranges for ${task.context.file}.`);
          await restart();
          continue;
        }
        break;
      } catch (thrown) {
        if (signal?.aborted) throw thrown;
        // The Blob's stream reports failures as bare messages; what our fetch saw is the real error.
        const error = record.error ?? thrown;
        if (error instanceof PullError && error.status !== undefined && RETRYABLE_STATUSES.has(error.status)) {
          await retryOrThrow(error, `HTTP ${error.status}`);
          continue;
        }
        if (!isNetworkError(error)) throw error;
        if (offset > before) failures = 0;
        await retryOrThrow(networkError(error, new URL(record.response?.url || client.endpoint).origin), 'connection dropped');
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
