import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { GenerationProgress } from '../../engine/types.ts';
import type { BotRequest } from './imagine-request.ts';
import type { QueueEntry } from './job-queue.ts';
import type { ReplyTarget } from '../delivery/reply-target.ts';
import { FAIL_CLOSED_SAFETY, type SafetyHandling } from '../moderation/nsfw-policy.ts';

/** One /imagine (or reroll) from acceptance to delivery. */
export interface Job extends QueueEntry {
  /** The job's owner: may cancel it and delete its result. */
  userId: string;
  guildId: string | null;
  channelId: string;
  request: BotRequest;
  reply: ReplyTarget;
  /** What delivery does with flagged images, settled at acceptance (absent: the strictest). */
  safety?: SafetyHandling;
  /** The result message this job rerolls. */
  parentMessageId?: string;
  createdAt: number;
  /** Accepted before a restart and taken up again after it; its messages say so. */
  resumed?: boolean;
  /** Latest progress while running, for /queue. */
  progress?: GenerationProgress;
  log: Logger;
}

export function safetyOf(job: Pick<Job, 'safety'>): SafetyHandling {
  return job.safety ?? FAIL_CLOSED_SAFETY;
}

/** Where flagged images are shown as they are, the checker's verdict changes nothing: skip its cost. */
export function runsSafetyCheck(job: Pick<Job, 'safety'>): boolean {
  return safetyOf(job).flagged !== 'allow';
}

export type CancelReason = { kind: 'user'; userId: string } | { kind: 'shutdown' };

export function isCancelReason(value: unknown): value is CancelReason {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return kind === 'user' || kind === 'shutdown';
}

/** Short enough to quote in a support message, random enough not to collide in a bot's lifetime. */
export function newJobId(): string {
  return randomBytes(4).toString('hex');
}
