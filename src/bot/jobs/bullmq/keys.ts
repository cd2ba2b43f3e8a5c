/**
 * Every Redis key and BullMQ name the distributed mode uses, in one place, so that the gateway and
 * the workers cannot drift apart. All live under one prefix: several bots can share a Redis.
 */
export const KEY_PREFIX = 'imagine';
/** BullMQ's own keys (`imagine:bull:<queue>:…`). */
export const BULL_PREFIX = `${KEY_PREFIX}:bull`;
/** The BullMQ job name; there is one kind of job. */
export const JOB_NAME = 'generate';

/** One queue per model, so a job is only ever taken by a worker that serves its model. */
export function queueNameFor(model: string): string {
  // BullMQ reserves ':' in queue names; model names are folder names, so anything else is kept readable.
  return `model.${model.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/** BullMQ refuses all-digit custom ids, and our ids are hex: a letter in front keeps them apart. */
export function bullJobId(jobId: string): string {
  return `job-${jobId}`;
}

export const RedisKeys = {
  /** Hash jobId → "waiting:<ms>" | "running:<ms>": the user's jobs in the system, for the cap and fairness. */
  userJobs: (userId: string) => `${KEY_PREFIX}:user:${userId}:jobs`,
  /** The delivery marker: "claim:<worker>" while a final message is being sent, then "done:…". */
  delivery: (jobId: string) => `${KEY_PREFIX}:delivery:${jobId}`,
  /** A cancel request (JSON CancelReason) for a job that is running or about to. */
  cancel: (jobId: string) => `${KEY_PREFIX}:cancel:${jobId}`,
  /** Pub/sub channel that tells workers to look at a cancel request now. */
  cancelChannel: `${KEY_PREFIX}:cancel`,
  /** Heartbeat of one worker (JSON WorkerStatus), expiring when it stops beating. */
  worker: (workerId: string) => `${KEY_PREFIX}:worker:${workerId}`,
  /** Set of worker ids that have beaten at least once; stale members are pruned by readers. */
  workers: `${KEY_PREFIX}:workers`,
  /** Hash model name → JSON model description, written by workers when they start. */
  models: `${KEY_PREFIX}:models`,
} as const;
