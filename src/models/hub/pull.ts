import { mkdir, readFile, stat, statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { HubClient } from './client.ts';
import type { RepoFile } from './client.ts';
import { INCOMPLETE_SUFFIX, downloadFile } from './download.ts';
import { PullError, abortedError, fromFilesystemError } from './errors.ts';
import { hasAnyOnnx, isSafeRepoPath, missingRequired, requirementsFor, selectFiles, type Requirement } from './select.ts';
import { checksumOf, isFileComplete } from './verify.ts';

export interface PullOptions {
  /** `owner/name` (or a legacy un-namespaced `name`). */
  repo: string;
  revision?: string;
  /** Destination folder; defaults to `<modelsDir>/<repo name>`. */
  dir?: string;
  modelsDir?: string;
  endpoint?: string;
  token?: string;
  /** Take every file of the repo instead of only what the engine loads. */
  all?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: PullProgressEvent) => void;
  /** Failures in a row (without progress) tolerated per file. */
  retries?: number;
  retryDelayMs?: number;
  fetch?: typeof fetch;
}

export type FileStatus = 'downloaded' | 'resumed' | 'skipped';

export interface PulledFile {
  path: string;
  size: number;
  status: FileStatus;
}

export interface PullResult {
  repo: string;
  revision: string;
  /** Commit the revision resolved to, when the hub said. */
  commit: string | undefined;
  dir: string;
  files: PulledFile[];
  /** Bytes that came over the network in this run. */
  bytesDownloaded: number;
  /** Required files that are not in `dir` (empty when the engine can load the model). */
  missing: string[];
}

export type PullProgressEvent =
  | { type: 'start'; repo: string; revision: string; commit: string | undefined; dir: string; files: { path: string; size: number }[]; totalBytes: number }
  | { type: 'file-start'; path: string; size: number; index: number; count: number }
  | { type: 'progress'; path: string; fileBytes: number; fileSize: number; doneBytes: number; totalBytes: number; downloadedBytes: number }
  | { type: 'file-done'; path: string; size: number; index: number; count: number; status: FileStatus }
  | { type: 'retry'; path: string; attempt: number; delayMs: number; reason: string };

const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

export function defaultModelDir(repo: string, modelsDir = 'models'): string {
  return join(modelsDir, repo.split('/').pop() ?? repo);
}

async function nearestExisting(path: string): Promise<string> {
  let current = resolve(path);
  for (;;) {
    if (await stat(current).then(() => true, () => false)) return current;
    const parent = dirname(current);
    if (parent === current) return current;
    current = parent;
  }
}

function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** Fails before any download when the volume clearly cannot hold what is left to fetch. */
async function checkFreeSpace(dir: string, files: readonly RepoFile[]): Promise<void> {
  let needed = 0;
  for (const file of files) {
    const dest = join(dir, file.path);
    const existing = await stat(dest).catch(() => undefined);
    if (existing?.size === file.size) continue;
    const part = await stat(dest + INCOMPLETE_SUFFIX).catch(() => undefined);
    needed += file.size - Math.min(part?.size ?? 0, file.size);
  }
  const volume = await nearestExisting(dir);
  const info = await statfs(volume).catch(() => undefined);
  if (!info) return;
  const free = info.bavail * info.bsize;
  if (free < needed) {
    throw new PullError('filesystem', `Not enough disk space for ${dir}: need ${formatGiB(needed)}, ${formatGiB(free)} free on its volume.`);
  }
}

async function noOnnxError(client: HubClient, repo: string, revision: string, signal?: AbortSignal): Promise<PullError> {
  const refs = await client.refNames(repo, signal);
  const onnxRef = refs.find((name) => name !== revision && /onnx/i.test(name));
  const hint = onnxRef
    ? ` It has a '${onnxRef}' revision: try --revision ${onnxRef}.`
    : ' Pick a repo (or revision) that holds an ONNX export, e.g. one made with `optimum-cli export onnx`.';
  return new PullError('not-onnx', `${repo}@${revision} has no ONNX files, so it is not an ONNX diffusers pipeline.${hint}`);
}

/** The parts model_index.json lists, checked against the listing before any large download. */
async function requirementsOf(indexPath: string, repo: string, revision: string, listing: readonly RepoFile[]): Promise<Requirement[]> {
  let index: unknown;
  try {
    index = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (error) {
    throw new PullError('not-onnx', `model_index.json of ${repo}@${revision} is not valid JSON, so it is not a diffusers pipeline.`, { cause: error });
  }
  const requirements = requirementsFor(index);
  const missing = missingRequired(new Set(listing.map((file) => file.path)), requirements);
  if (missing.length > 0) {
    throw new PullError('not-onnx', `${repo}@${revision} is not a complete ONNX diffusers pipeline: missing ${missing.join(', ')} (model_index.json needs them).`);
  }
  return requirements;
}

/**
 * Downloads what the engine needs of a hub repo into a local folder. Safe to call again after a
 * failure or an abort: finished files are verified and skipped, partial ones resumed.
 */
export async function pullModel(options: PullOptions): Promise<PullResult> {
  const { repo, signal, onProgress } = options;
  const revision = options.revision ?? 'main';
  if (!REPO_ID.test(repo) || repo.includes('..')) {
    throw new PullError('invalid-argument', `Invalid repo id '${repo}': expected owner/name, e.g. stable-diffusion-v1-5/stable-diffusion-v1-5.`);
  }
  if (revision.length === 0) throw new PullError('invalid-argument', 'The revision must not be empty.');
  const dir = options.dir ?? defaultModelDir(repo, options.modelsDir);
  const client = new HubClient({ endpoint: options.endpoint, token: options.token, fetch: options.fetch });

  try {
    const commit = await client.resolveCommit(repo, revision, signal);
    const ref = commit ?? revision;
    const listing = await client.listFiles(repo, ref, signal);
    if (!hasAnyOnnx(listing)) throw await noOnnxError(client, repo, revision, signal);
    if (!listing.some((file) => file.path === 'model_index.json')) {
      throw new PullError('not-onnx', `${repo}@${revision} has no model_index.json, so it is not a diffusers pipeline.`);
    }

    const files = selectFiles(listing, { all: options.all });
    const unsafe = files.find((file) => !isSafeRepoPath(file.path));
    if (unsafe) throw new PullError('http', `Refusing to write '${unsafe.path}' listed by ${client.endpoint}: it would land outside ${dir}.`);

    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw fromFilesystemError(error, dir);
    }
    await checkFreeSpace(dir, files);

    const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
    onProgress?.({ type: 'start', repo, revision, commit, dir, files: files.map(({ path, size }) => ({ path, size })), totalBytes });

    const pulled: PulledFile[] = [];
    let requirements: Requirement[] | undefined;
    let doneBytes = 0;
    let downloadedBytes = 0;

    const fetchFile = async (file: RepoFile, dest: string): Promise<FileStatus> => {
      let fileBytes: number | undefined;
      await mkdir(dirname(dest), { recursive: true });
      const outcome = await downloadFile(
        {
          repo,
          ref,
          dest,
          size: file.size,
          checksum: checksumOf(file),
          context: { repo, revision, file: file.path },
        },
        {
          client,
          signal,
          retries: options.retries ?? 5,
          retryDelayMs: options.retryDelayMs ?? 1_000,
          onBytes: (bytes) => {
            // The first report is what a previous run left on disk, not network traffic.
            if (fileBytes !== undefined) downloadedBytes += Math.max(0, bytes - fileBytes);
            fileBytes = bytes;
            onProgress?.({ type: 'progress', path: file.path, fileBytes: bytes, fileSize: file.size, doneBytes: doneBytes + bytes, totalBytes, downloadedBytes });
          },
          onRetry: (info) => onProgress?.({ type: 'retry', path: file.path, ...info }),
        },
      );
      return outcome.resumedFrom > 0 ? 'resumed' : 'downloaded';
    };

    for (const [index, file] of files.entries()) {
      signal?.throwIfAborted();
      const dest = join(dir, ...file.path.split('/'));
      const count = files.length;
      onProgress?.({ type: 'file-start', path: file.path, size: file.size, index, count });
      let status: FileStatus;
      try {
        status = (await isFileComplete(dest, file, signal)) ? 'skipped' : await fetchFile(file, dest);
      } catch (error) {
        // Writes through a file handle report no path; the part file is where they went.
        const path = (error as { path?: unknown } | null)?.path;
        throw fromFilesystemError(error, typeof path === 'string' ? path : dest + INCOMPLETE_SUFFIX);
      }
      doneBytes += file.size;
      pulled.push({ path: file.path, size: file.size, status });
      onProgress?.({ type: 'file-done', path: file.path, size: file.size, index, count, status });
      if (file.path === 'model_index.json') requirements = await requirementsOf(dest, repo, revision, listing);
    }

    // What is on disk now, against what model_index.json lists: a part it names but the folder lacks is reported.
    requirements ??= requirementsFor(undefined);
    const present = new Set<string>();
    for (const path of requirements.flatMap((req) => req.anyOf.flat())) {
      if (await stat(join(dir, path)).then((info) => info.isFile(), () => false)) present.add(path);
    }
    return { repo, revision, commit, dir, files: pulled, bytesDownloaded: downloadedBytes, missing: missingRequired(present, requirements) };
  } catch (error) {
    if (signal?.aborted) throw abortedError(dir);
    throw error;
  }
}
