import type { GenerationProgress } from '../../engine/types.ts';
import type { Job } from '../jobs/job.ts';
import { CoalescingUpdater } from './coalescing-updater.ts';
import { describeDiscordError, retryAfterMs } from './discord-errors.ts';
import type { OutgoingMessage } from './discord-messenger.ts';
import { previewFile } from './images.ts';
import { progressMessage, queuedMessage, startingMessage } from './job-messages.ts';

/** What a job's message shows until its final message replaces it. */
export type JobStatus = { kind: 'queued'; position: number } | { kind: 'starting' } | { kind: 'progress'; progress: GenerationProgress };

export type JobStatusUpdater = CoalescingUpdater<JobStatus>;

export interface JobStatusOptions {
  /** Least time between two edits of the message. */
  intervalMs: number;
  /** Longer side of preview images, in pixels. */
  previewSize?: number;
}

/**
 * Edits the job's message with its newest status, throttled and 429-aware. A failed edit is only
 * logged: the next one shows a newer status anyway.
 */
export function jobStatusUpdater(job: Job, options: JobStatusOptions): JobStatusUpdater {
  return new CoalescingUpdater<JobStatus>({
    intervalMs: options.intervalMs,
    send: async (status) => job.reply.update(await statusMessage(job, status, options.previewSize)),
    retryAfterMs,
    onError: (error) => job.log.debug({ err: describeDiscordError(error) }, 'status edit failed (next one will catch up)'),
  });
}

async function statusMessage(job: Job, status: JobStatus, previewSize: number | undefined): Promise<OutgoingMessage> {
  switch (status.kind) {
    case 'queued':
      return queuedMessage(job, status.position);
    case 'starting':
      return startingMessage(job);
    case 'progress': {
      const { preview } = status.progress;
      return progressMessage(job, status.progress, preview ? await previewFile(preview, previewSize) : undefined);
    }
  }
}
