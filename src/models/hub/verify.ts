import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { RepoFile } from './client.ts';

/**
 * LFS files carry their sha256 in the listing; small files carry their git blob id, which is a
 * sha1 over a `blob <size>\0` header plus the content, so they can be checked too.
 */
export interface Checksum {
  algorithm: 'sha256' | 'git-sha1';
  expected: string;
}

export function checksumOf(file: RepoFile): Checksum | undefined {
  if (file.sha256 !== undefined) {
    return /^[0-9a-f]{64}$/.test(file.sha256) ? { algorithm: 'sha256', expected: file.sha256 } : undefined;
  }
  return /^[0-9a-f]{40}$/i.test(file.oid) ? { algorithm: 'git-sha1', expected: file.oid.toLowerCase() } : undefined;
}

export function describeChecksum(checksum: Checksum): string {
  return checksum.algorithm === 'sha256' ? 'sha256' : 'git blob sha1';
}

/** Incremental digest that can start over when a server ignores a Range request. */
export class StreamingChecksum {
  private hash: Hash | undefined;

  constructor(
    readonly checksum: Checksum | undefined,
    private readonly size: number,
  ) {
    this.reset();
  }

  reset(): void {
    if (!this.checksum) return;
    if (this.checksum.algorithm === 'sha256') {
      this.hash = createHash('sha256');
    } else {
      this.hash = createHash('sha1');
      this.hash.update(`blob ${this.size}\0`);
    }
  }

  update(chunk: Uint8Array): void {
    this.hash?.update(chunk);
  }

  /** Feeds bytes already on disk, e.g. the part of a download that a previous run left. */
  async updateFromFile(path: string, signal?: AbortSignal): Promise<void> {
    if (!this.hash) return;
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) {
      this.hash.update(chunk as Buffer);
    }
  }

  /** Hex digest, or undefined when there is nothing to check against. Finishes the hash. */
  digest(): string | undefined {
    return this.hash?.digest('hex');
  }
}

/** True when `path` already holds exactly this file (size, then checksum if the listing has one). */
export async function isFileComplete(path: string, file: RepoFile, signal?: AbortSignal): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile() || info.size !== file.size) return false;
  const checksum = checksumOf(file);
  if (!checksum) return true;
  const hasher = new StreamingChecksum(checksum, file.size);
  await hasher.updateFromFile(path, signal);
  return hasher.digest() === checksum.expected;
}
