import type { Logger } from 'pino';
import { z } from 'zod';
import { SCHEDULER_NAMES } from '../../../engine/schedulers/scheduler.ts';
import type { DiscordMessenger } from '../../delivery/discord-messenger.ts';
import { safetyOf, type Job } from '../job.ts';
import { FAIL_CLOSED_SAFETY, NSFW_POLICIES } from '../../moderation/nsfw-policy.ts';
import { replyTargetFromRecord, type ReplyTargetRecord } from '../../delivery/reply-target.ts';

/**
 * A job as it travels through Redis from the gateway to a worker: plain data only, and re-checked
 * on arrival (a job written by another version of the gateway must fail clearly, not half-run).
 */
export const wireJobSchema = z.object({
  id: z.string().min(1),
  userId: z.string().min(1),
  guildId: z.string().nullable(),
  channelId: z.string().min(1),
  /** The model queue it was routed to. */
  model: z.string().min(1),
  request: z.object({
    prompt: z.string(),
    negativePrompt: z.string().optional(),
    // Always set on the wire: a rerun after a worker died must draw the same image.
    seed: z.number().int(),
    steps: z.number().int(),
    guidance: z.number(),
    scheduler: z.enum(SCHEDULER_NAMES).optional(),
    width: z.number().int(),
    height: z.number().int(),
    count: z.number().int(),
    initImageId: z.string().optional(),
    strength: z.number().optional(),
  }),
  reply: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('interaction'), interactionToken: z.string(), channelId: z.string(), ownerId: z.string(), createdAt: z.number() }),
    z.object({ kind: z.literal('channel'), channelId: z.string(), replyTo: z.string(), messageId: z.string().optional() }),
  ]),
  // Jobs from a gateway that predates the NSFW policy get the strictest handling.
  safety: z
    .object({ flagged: z.enum(NSFW_POLICIES), dmWithheld: z.boolean() })
    .default({ ...FAIL_CLOSED_SAFETY }),
  parentMessageId: z.string().optional(),
  createdAt: z.number(),
});

export type WireJob = z.infer<typeof wireJobSchema>;

export function toWireJob(job: Job, model: string, seed: number): WireJob {
  const address: ReplyTargetRecord = job.reply.record();
  const reply: WireJob['reply'] =
    address.kind === 'interaction'
      ? address
      : { kind: 'channel', channelId: address.channelId, replyTo: address.replyTo, ...(address.messageId ? { messageId: address.messageId } : {}) };
  return {
    id: job.id,
    userId: job.userId,
    guildId: job.guildId,
    channelId: job.channelId,
    model,
    request: { ...job.request, seed },
    reply,
    safety: safetyOf(job),
    ...(job.parentMessageId ? { parentMessageId: job.parentMessageId } : {}),
    createdAt: job.createdAt,
  };
}

/** The job again, with a reply target that edits the same Discord message from this process. */
export function fromWireJob(wire: WireJob, messenger: DiscordMessenger, logger: Logger): Job {
  const log = logger.child({ jobId: wire.id });
  const address: ReplyTargetRecord = wire.reply.kind === 'interaction' ? wire.reply : { ...wire.reply, messageId: wire.reply.messageId };
  const { scheduler, ...request } = wire.request;
  return {
    id: wire.id,
    userId: wire.userId,
    guildId: wire.guildId,
    channelId: wire.channelId,
    request: { ...(scheduler ? { ...request, scheduler } : request), model: wire.model },
    reply: replyTargetFromRecord(address, messenger, log),
    safety: { ...wire.safety },
    ...(wire.parentMessageId ? { parentMessageId: wire.parentMessageId } : {}),
    createdAt: wire.createdAt,
    log,
  };
}
