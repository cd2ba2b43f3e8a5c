import type { Engine, GenerateResult, GenerationProgress } from '../../engine/types.ts';
import { EngineError } from '../../engine/types.ts';
import { engineRequest, InitImageMissingError, type InitImageStore } from '../attachments/init-image-store.ts';
import type { OutgoingMessage } from '../delivery/discord-messenger.ts';
import { failedMessage } from '../delivery/job-messages.ts';
import type { JobStatusUpdater } from '../delivery/job-status.ts';
import { runsSafetyCheck, type Job } from './job.ts';

/*
 * Running a job on an engine, the same in the embedded job service and on a distributed worker; what
 * each does around it (queue places, the delivery marker, hand-back) is their own.
 */

export interface GenerationOptions {
  signal: AbortSignal;
  status: JobStatusUpdater;
  /** Starting images of img2img jobs. */
  images?: InitImageStore;
  /** Told of each step as well as the job's message. */
  onProgress?: (progress: GenerationProgress) => void;
}

/** Generates the job's images, showing "starting" and then every step (with its preview) on its message. */
export async function generateForJob(job: Job, engine: Engine, options: GenerationOptions): Promise<{ result: GenerateResult; elapsedMs: number }> {
  job.log.info('job started');
  options.status.push({ kind: 'starting' });
  const startedAt = Date.now();
  const result = await engine.generate(await engineRequest(job.request, options.images), {
    signal: options.signal,
    safetyCheck: runsSafetyCheck(job),
    previewEvery: 1,
    onProgress: (progress) => {
      job.progress = progress;
      options.onProgress?.(progress);
      options.status.push({ kind: 'progress', progress });
    },
  });
  return { result, elapsedMs: Date.now() - startedAt };
}

/**
 * The final message for a generation that failed (not cancelled). The engine's refusals and a lost
 * starting image are worded for users and shown; anything else is only logged in full.
 */
export function generationFailedMessage(job: Job, error: unknown): OutgoingMessage {
  if (error instanceof EngineError || error instanceof InitImageMissingError) {
    job.log.warn({ err: error }, 'engine refused or failed the job');
    return failedMessage(job, error.message);
  }
  job.log.error({ err: error }, 'job failed unexpectedly');
  return failedMessage(job, undefined);
}
