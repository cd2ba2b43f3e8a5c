import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

/**
 * Opening a full-size UNet spends most of its time optimising the graph (SD 1.5 on CPU: ~4 s to
 * map the weights, 6–15 s with `all` optimisations). ONNX Runtime can save the optimised graph;
 * this keeps one beside the model, in `<part>/.ort-optimized-cpu/`, and loads that one with
 * optimisation off. The graph holds CPU-specific layouts, so the cache is for the CPU provider
 * only and is rebuilt when the source files, ONNX Runtime or the CPU change.
 */
export const OPTIMIZED_DIR = '.ort-optimized-cpu';
const GRAPH = 'model.onnx';
const WEIGHTS = 'model.onnx.data';
const STAMP = 'stamp.json';
/** Smaller graphs load in well under a second; caching them is not worth the disk. */
export const CACHE_MIN_BYTES = 64 * 1024 ** 2;

export type GraphSource = 'cache' | 'optimized-and-saved' | 'plain';

interface Stamp {
  ort: string;
  cpu: string;
  files: Record<string, { size: number; mtimeMs: number }>;
}

/** Size and mtime of every file beside the graph (the graph and its external weights). */
async function sourceFiles(modelPath: string): Promise<Stamp['files']> {
  const dir = dirname(modelPath);
  const files: Stamp['files'] = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const info = await stat(join(dir, entry.name));
    files[entry.name] = { size: info.size, mtimeMs: Math.floor(info.mtimeMs) };
  }
  return files;
}

async function currentStamp(modelPath: string): Promise<Stamp> {
  return { ort: ort.env.versions.common, cpu: cpus()[0]?.model ?? 'unknown', files: await sourceFiles(modelPath) };
}

function totalBytes(stamp: Stamp): number {
  return Object.values(stamp.files).reduce((sum, file) => sum + file.size, 0);
}

async function readStamp(path: string): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

export function isCacheable(options: ort.InferenceSession.SessionOptions): boolean {
  const providers = options.executionProviders ?? ['cpu'];
  const cpuOnly = providers.every((p) => (typeof p === 'string' ? p : p.name) === 'cpu');
  return cpuOnly && (options.graphOptimizationLevel ?? 'all') === 'all' && options.optimizedModelFilePath === undefined;
}

export interface OptimizedSession {
  session: ort.InferenceSession;
  source: GraphSource;
  /** Why the cache was not used or not written, for a log line. */
  note?: string;
}

/**
 * Opens `modelPath` through the optimised-graph cache: the saved graph when its stamp matches,
 * else the source with `all` optimisations, saving the result for next time. Any cache problem
 * (read-only folder, disk full, corrupt cache) falls back to a plain load: the cache only saves time.
 */
export async function openWithOptimizedCache(
  modelPath: string,
  options: ort.InferenceSession.SessionOptions,
  create: (path: string, options: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>,
  minBytes = CACHE_MIN_BYTES,
): Promise<OptimizedSession> {
  const stamp = await currentStamp(modelPath);
  if (!isCacheable(options) || totalBytes(stamp) < minBytes || basename(modelPath) !== GRAPH) {
    return { session: await create(modelPath, options), source: 'plain' };
  }
  const cacheDir = join(dirname(modelPath), OPTIMIZED_DIR);
  const saved = await readStamp(join(cacheDir, STAMP));
  let note: string | undefined;
  if (saved && JSON.stringify(saved) === JSON.stringify(stamp)) {
    try {
      return { session: await create(join(cacheDir, GRAPH), { ...options, graphOptimizationLevel: 'disabled' }), source: 'cache' };
    } catch (error) {
      note = `the saved optimised graph did not load (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); rebuilding it`;
    }
  }

  // Saved into a private folder first, then renamed into place, so a concurrent loader never sees half a cache.
  const staging = join(dirname(modelPath), `${OPTIMIZED_DIR}.${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(staging);
  } catch (error) {
    return { session: await create(modelPath, options), source: 'plain', note: `cannot save the optimised graph beside the model (${(error as NodeJS.ErrnoException).code ?? error})` };
  }
  let session: ort.InferenceSession;
  try {
    session = await create(modelPath, {
      ...options,
      optimizedModelFilePath: join(staging, GRAPH),
      // ONNX Runtime warns that the saved graph is for this machine only: the stamp's CPU field sees to that.
      logSeverityLevel: 3,
      extra: { ...options.extra, session: { ...(options.extra?.session as object | undefined), optimized_model_external_initializers_file_name: WEIGHTS } },
    });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // Saving can fail (disk full) where a plain load would not: only a plain load's error is the model's.
    const plain = await create(modelPath, options);
    return { session: plain, source: 'plain', note: `saving the optimised graph failed (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` };
  }
  try {
    await writeFile(join(staging, STAMP), JSON.stringify(stamp));
    await rm(cacheDir, { recursive: true, force: true });
    await rename(staging, cacheDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    note = `could not keep the optimised graph (${(error as NodeJS.ErrnoException).code ?? error})`;
  }
  return { session, source: 'optimized-and-saved', note };
}
