import type { Logger } from 'pino';
import { describeDiscordError, isPayloadTooLarge, isTransient } from './discord-errors.ts';
import type { DiscordMessenger, OutgoingMessage, SentMessage } from './discord-messenger.ts';
import type { ReplyTarget } from './reply-target.ts';
import { withRetry } from './retry.ts';

/** Builds the result message with attachments that fit in `uploadLimitBytes` (re-encoding as needed). */
export type ResultMessageBuilder = (uploadLimitBytes: number) => Promise<OutgoingMessage>;

export type DeliveryRoute = 'reply' | 'dm';

export type DeliveryOutcome = { delivered: true; route: DeliveryRoute; sent: SentMessage } | { delivered: false; reason: string };

export interface ResultDeliveryOptions {
  messenger: DiscordMessenger;
  reply: ReplyTarget;
  ownerId: string;
  channelId: string;
  uploadLimitBytes: number;
  logger: Logger;
  /** Tries per route for transient failures (default 3), and the first back-off (default 1000 ms). */
  attempts?: number;
  baseDelayMs?: number;
}

/** Below this, halving again after a 413 will not help: the image cannot be made to fit. */
const SMALLEST_UPLOAD_BYTES = 1024;

function uploadBytes(message: OutgoingMessage): number {
  return (message.files ?? []).reduce((sum, file) => sum + file.data.length, 0);
}

function describe(error: unknown): string {
  const detail = describeDiscordError(error);
  return [detail.status, detail.code, detail.message].filter((part) => part !== undefined).join(' ');
}

/**
 * Gets a finished image to its owner: first where it was asked for (the interaction reply, or its
 * channel fallback), then by DM. Each route retries transient failures with back-off, and answers a
 * 413 with smaller files. Never throws: when every route fails it says why, and the caller keeps the
 * image for the owner to fetch later.
 */
export async function deliverResult(build: ResultMessageBuilder, options: ResultDeliveryOptions): Promise<DeliveryOutcome> {
  const { messenger, reply, ownerId, channelId, logger } = options;
  try {
    const sent = await retried((message) => reply.deliver(message), build, options);
    return { delivered: true, route: 'reply', sent };
  } catch (error) {
    logger.warn({ err: describeDiscordError(error) }, 'could not deliver the result in the channel; sending it by DM');
  }
  try {
    const dmChannelId = await withRetry(() => messenger.openDm(ownerId), retryOptions(options));
    const toDm = (message: OutgoingMessage): OutgoingMessage => ({
      ...message,
      content: `I could not post your image in <#${channelId}>, so here it is.`,
      // Reroll and delete act on channel results; in a DM they would have nothing to act on.
      components: [],
    });
    const sent = await retried((message) => messenger.createMessage(dmChannelId, toDm(message)), build, options);
    return { delivered: true, route: 'dm', sent };
  } catch (error) {
    logger.error({ err: describeDiscordError(error) }, 'could not send the result by DM either; it is kept for /imagine-history');
    return { delivered: false, reason: describe(error) };
  }
}

async function retried(send: (message: OutgoingMessage) => Promise<SentMessage>, build: ResultMessageBuilder, options: ResultDeliveryOptions) {
  return withRetry(() => sendShrinking(send, build, options), retryOptions(options));
}

function retryOptions(options: ResultDeliveryOptions) {
  return {
    attempts: options.attempts ?? 3,
    baseDelayMs: options.baseDelayMs ?? 1000,
    shouldRetry: isTransient,
    onRetry: (error: unknown, attempt: number, delayMs: number) =>
      options.logger.warn({ err: describeDiscordError(error), attempt, delayMs }, 'result delivery failed; retrying'),
  };
}

/** Sends, and on 413 sends again with the upload limit halved, while the files keep getting smaller. */
async function sendShrinking(send: (message: OutgoingMessage) => Promise<SentMessage>, build: ResultMessageBuilder, options: ResultDeliveryOptions) {
  let limit = options.uploadLimitBytes;
  let previousBytes = Number.POSITIVE_INFINITY;
  for (;;) {
    const message = await build(limit);
    const bytes = uploadBytes(message);
    try {
      return await send(message);
    } catch (error) {
      const next = Math.floor(bytes / 2);
      if (!isPayloadTooLarge(error) || bytes >= previousBytes || next < SMALLEST_UPLOAD_BYTES) throw error;
      options.logger.warn({ bytes, nextLimitBytes: next }, 'Discord refused the upload as too large; sending smaller images');
      previousBytes = bytes;
      limit = next;
    }
  }
}
