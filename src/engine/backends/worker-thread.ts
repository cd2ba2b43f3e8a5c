import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { GenerationOutput } from '../pipeline/generate.ts';
import { EngineError } from '../types.ts';
import type { BackendJob, BackendOptions, EngineBackend, LoadedBackendInfo } from './backend.ts';
import { deserializeError } from './errors.ts';
import type { FromWorker, ToWorker, WorkerInit } from './messages.ts';

interface PendingJob {
  job: BackendJob;
  resolve(output: GenerationOutput): void;
  reject(error: unknown): void;
}

/** tsx's ESM register API, found through its package.json exports (require.resolve would give the CJS build). */
function tsxEsmApiUrl(): string {
  const manifestPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(manifestPath), manifest.exports['./esm/api']!.import.default)).href;
}

/**
 * Where the worker starts. From compiled JavaScript it is the entry file itself; from TypeScript
 * sources (tsx, vitest) Node 20 resolves a worker's entry before `--import` hooks apply, so a
 * small ESM bootstrap registers tsx's loader first and then imports the entry.
 */
function workerScript(entry: URL): URL {
  if (!entry.pathname.endsWith('.ts')) return entry;
  const tsxApi = tsxEsmApiUrl();
  const bootstrap = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

/**
 * Runs the sessions in a worker thread so the caller's event loop (Discord heartbeats, the
 * progress bar) keeps turning while the UNet runs. Cancellation goes through a shared flag the
 * worker reads between steps. If the worker dies, the job in flight fails and the next job
 * starts a fresh worker.
 */
export class WorkerThreadBackend implements EngineBackend {
  private worker: Worker | undefined;
  private ready: Promise<LoadedBackendInfo> | undefined;
  private pending: Map<number, PendingJob> = new Map();
  private nextJobId = 1;
  private closing = false;

  constructor(private readonly options: BackendOptions) {}

  load(): Promise<LoadedBackendInfo> {
    this.ready ??= this.spawn();
    return this.ready;
  }

  private spawn(): Promise<LoadedBackendInfo> {
    const entry = new URL(`./worker-entry${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
    const init: WorkerInit = { modelDir: this.options.modelDir, provider: this.options.provider, session: this.options.session };
    const worker = new Worker(workerScript(entry), { workerData: init });
    this.worker = worker;
    const log = this.options.logger;
    return new Promise<LoadedBackendInfo>((resolve, reject) => {
      let loaded = false;
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            loaded = true;
            resolve(message.info);
            break;
          case 'load-failed':
            reject(deserializeError(message.error));
            void worker.terminate();
            break;
          case 'log':
            log[message.level](message.obj, message.msg);
            break;
          case 'progress':
            this.pending.get(message.jobId)?.job.onProgress?.(message.progress);
            break;
          case 'done':
            this.settle(message.jobId, (p) => p.resolve(message.output));
            break;
          case 'failed':
            this.settle(message.jobId, (p) => p.reject(deserializeError(message.error)));
            break;
          case 'closed':
            break;
        }
      });
      worker.on('error', (error) => {
        log.error({ err: error }, 'engine worker crashed');
        if (!loaded) reject(new EngineError('engine-failed', `the engine worker failed to start: ${error.message}`, { cause: error }));
        this.failAll(new EngineError('engine-failed', 'the engine worker stopped unexpectedly', { cause: error }));
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
        if (!loaded) reject(new EngineError('engine-failed', `the engine worker exited (code ${code}) before the model loaded`));
        if (!this.closing) this.failAll(new EngineError('engine-failed', `the engine worker exited unexpectedly (code ${code})`));
      });
    });
  }

  private settle(jobId: number, action: (pending: PendingJob) => void): void {
    const pending = this.pending.get(jobId);
    if (!pending) return;
    this.pending.delete(jobId);
    action(pending);
  }

  private failAll(error: EngineError): void {
    for (const [jobId, pending] of this.pending) {
      this.pending.delete(jobId);
      pending.reject(error);
    }
  }

  async run(job: BackendJob): Promise<GenerationOutput> {
    await this.load();
    const worker = this.worker;
    if (!worker) throw new EngineError('engine-failed', 'the engine worker is not running');
    const jobId = this.nextJobId++;
    const cancelFlag = new SharedArrayBuffer(4);
    const flag = new Int32Array(cancelFlag);
    const onAbort = (): void => void Atomics.store(flag, 0, 1);
    if (job.signal?.aborted) onAbort();
    job.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await new Promise<GenerationOutput>((resolve, reject) => {
        this.pending.set(jobId, { job, resolve, reject });
        const message: ToWorker = {
          type: 'run',
          jobId,
          request: job.request,
          initImage: job.initImage,
          safetyCheck: job.safetyCheck ?? true,
          previewEvery: job.previewEvery,
          wantsProgress: job.onProgress !== undefined,
          cancelFlag,
        };
        worker.postMessage(message);
      });
    } finally {
      job.signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' } satisfies ToWorker);
    // A worker stuck in a native call cannot answer; don't let shutdown hang on it.
    const timer = setTimeout(() => void worker.terminate(), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
