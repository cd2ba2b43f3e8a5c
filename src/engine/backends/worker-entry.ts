import { parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import { generateImages } from '../pipeline/generate.ts';
import { loadModel, type LoadedModel } from '../pipeline/loaded-model.ts';
import type { EngineLogger } from '../logger.ts';
import type { GenerationProgress } from '../types.ts';
import { serializeError } from './errors.ts';
import type { FromWorker, ToWorker, WorkerInit } from './messages.ts';

const port = parentPort;
if (!port) throw new Error('worker-entry.ts must run in a worker thread');
const init = workerData as WorkerInit;

function send(message: FromWorker, transfer: TransferListItem[] = []): void {
  port!.postMessage(message, transfer);
}

/** Errors do not survive structured clone with their fields; send a plain view of them. */
function plain(obj: object): object {
  const err = (obj as { err?: unknown }).err;
  return err instanceof Error ? { ...obj, err: { message: err.message, stack: err.stack } } : obj;
}

const logger: EngineLogger = {
  debug: (obj, msg) => send({ type: 'log', level: 'debug', obj: plain(obj), msg }),
  info: (obj, msg) => send({ type: 'log', level: 'info', obj: plain(obj), msg }),
  warn: (obj, msg) => send({ type: 'log', level: 'warn', obj: plain(obj), msg }),
  error: (obj, msg) => send({ type: 'log', level: 'error', obj: plain(obj), msg }),
};

let model: LoadedModel | undefined;

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'close') {
    await model?.release();
    model = undefined;
    send({ type: 'closed' });
    port!.close();
    return;
  }
  const loaded = model;
  if (!loaded) throw new Error('run before the model loaded');
  // A shared flag rather than a message: the loop never yields to this thread's event loop between steps.
  const cancelFlag = new Int32Array(message.cancelFlag);
  try {
    const hooks = {
      isCancelled: () => Atomics.load(cancelFlag, 0) !== 0,
      previewEvery: message.previewEvery,
      onProgress: message.wantsProgress
        ? (progress: GenerationProgress) =>
            send({ type: 'progress', jobId: message.jobId, progress }, progress.preview ? [progress.preview.data.buffer as ArrayBuffer] : [])
        : undefined,
    };
    const output = await generateImages(loaded, message.request, hooks, { initImage: message.initImage, safetyCheck: message.safetyCheck });
    send(
      { type: 'done', jobId: message.jobId, output },
      output.images.map((image) => image.data.buffer as ArrayBuffer),
    );
  } catch (error) {
    send({ type: 'failed', jobId: message.jobId, error: serializeError(error) });
  }
}

port.on('message', (message: ToWorker) => {
  void handle(message);
});

try {
  model = await loadModel(init.modelDir, init.provider, logger, init.session);
  send({ type: 'ready', info: { model: model.info, provider: model.provider, providerReason: model.providerReason } });
} catch (error) {
  send({ type: 'load-failed', error: serializeError(error) });
}
