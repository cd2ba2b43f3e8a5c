import type { Logger } from 'pino';
import { describeDiscordError, isInteractionTokenGone, isMissingPermissions, isServerError, isUnknownMessage } from './discord-errors.ts';
import type { DiscordMessenger, OutgoingMessage, SentMessage } from './discord-messenger.ts';

/** Discord lets an interaction token edit its reply for 15 minutes. */
export const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60 * 1000;
/** Stop trusting the token a little early: an upload started at 14:59 would land after expiry. */
const TOKEN_SAFETY_MARGIN_MS = 30 * 1000;

/** Where a job shows its progress and result. */
export interface ReplyTarget {
  /** A status edit (queue position, preview), through the lane that never waits on a rate limit. */
  update(message: OutgoingMessage): Promise<void>;
  /** The final message; falls back to a new channel message when the reply can no longer be edited. */
  deliver(message: OutgoingMessage): Promise<SentMessage>;
  /** The message shown so far, once known. */
  readonly messageId: string | undefined;
  /** What it takes to reach this message again from another process or after a restart. */
  record(): ReplyTargetRecord;
}

/** A {@link ReplyTarget} as data. Holds the interaction token, which is good for 15 minutes only. */
export type ReplyTargetRecord =
  | { kind: 'interaction'; interactionToken: string; channelId: string; ownerId: string; createdAt: number }
  | { kind: 'channel'; channelId: string; replyTo: string; messageId: string | undefined };

/** Rebuilds a reply target from its record: a job resumed after a restart keeps editing its message. */
export function replyTargetFromRecord(record: ReplyTargetRecord, messenger: DiscordMessenger, logger: Logger): ReplyTarget {
  if (record.kind === 'interaction') {
    const { interactionToken, channelId, ownerId, createdAt } = record;
    return new InteractionReply({ messenger, interactionToken, channelId, ownerId, createdAt, logger });
  }
  return ChannelReply.restore({ messenger, channelId: record.channelId, replyTo: record.replyTo, logger }, record.messageId);
}

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
}

interface InteractionReplyOptions {
  messenger: DiscordMessenger;
  interactionToken: string;
  channelId: string;
  ownerId: string;
  logger: Logger;
  /** When the interaction was acknowledged; the token's 15 minutes run from the interaction itself. */
  createdAt: number;
  now?: () => number;
}

/** The deferred reply of a slash command (or button), edited through the interaction's webhook token. */
export class InteractionReply implements ReplyTarget {
  #messageId: string | undefined;
  readonly #now: () => number;

  constructor(private readonly options: InteractionReplyOptions) {
    this.#now = options.now ?? Date.now;
  }

  get messageId(): string | undefined {
    return this.#messageId;
  }

  record(): ReplyTargetRecord {
    const { interactionToken, channelId, ownerId, createdAt } = this.options;
    return { kind: 'interaction', interactionToken, channelId, ownerId, createdAt };
  }

  get tokenUsable(): boolean {
    return this.#now() - this.options.createdAt < INTERACTION_TOKEN_LIFETIME_MS - TOKEN_SAFETY_MARGIN_MS;
  }

  async update(message: OutgoingMessage): Promise<void> {
    if (!this.tokenUsable) return;
    const sent = await this.options.messenger.editOriginal(this.options.interactionToken, message, 'status');
    this.#remember(sent);
  }

  async deliver(message: OutgoingMessage): Promise<SentMessage> {
    const { messenger, logger } = this.options;
    if (this.tokenUsable) {
      try {
        const sent = await messenger.editOriginal(this.options.interactionToken, message, 'final');
        this.#remember(sent);
        return { id: sent.id || (this.#messageId ?? ''), channelId: sent.channelId || this.options.channelId };
      } catch (error) {
        // 10008: someone deleted the reply. The image must not be lost with it.
        if (!isInteractionTokenGone(error) && !isServerError(error) && !isUnknownMessage(error)) throw error;
        logger.warn({ err: describeDiscordError(error) }, 'could not edit the reply; posting the result as a channel message');
      }
    } else {
      logger.info('interaction token expired; posting the result as a channel message');
    }
    return this.#postToChannel(message);
  }

  /** A channel message that replies to the original one and pings its owner, so the result is not lost. */
  async #postToChannel(message: OutgoingMessage): Promise<SentMessage> {
    const { messenger, logger, ownerId, channelId } = this.options;
    const mention = `<@${ownerId}>`;
    const content = message.content ?? '';
    const addressed: OutgoingMessage = {
      ...message,
      content: content.includes(mention) ? content : [mention, content].filter(Boolean).join(' '),
      mentionUsers: [ownerId],
    };
    try {
      return await messenger.createMessage(channelId, addressed, this.#messageId);
    } catch (error) {
      if (!isMissingPermissions(error)) throw error;
      logger.error({ err: describeDiscordError(error), channelId }, 'missing permissions to post the result in the channel');
      if (this.tokenUsable) {
        await messenger
          .followUp(
            this.options.interactionToken,
            { content: 'I could not post your image here: I am missing permissions in this channel (Send Messages, Attach Files, Embed Links). I will try to send it to you by DM.' },
            { ephemeral: true },
          )
          .catch((followUpError: unknown) => logger.warn({ err: describeDiscordError(followUpError) }, 'permission notice failed too'));
      }
      throw new DeliveryError('missing permissions in the channel', { cause: error });
    }
  }

  #remember(sent: SentMessage): void {
    if (sent.id) this.#messageId = sent.id;
  }
}

interface ChannelReplyOptions {
  messenger: DiscordMessenger;
  channelId: string;
  /** The message this job's message replies to. */
  replyTo: string;
  logger: Logger;
}

/** A channel message replying to another one: used where there is no interaction (reactions). */
export class ChannelReply implements ReplyTarget {
  #messageId: string | undefined;

  private constructor(private readonly options: ChannelReplyOptions) {}

  /** Posts the first status message. */
  static async post(options: ChannelReplyOptions, first: OutgoingMessage): Promise<ChannelReply> {
    const reply = new ChannelReply(options);
    const sent = await options.messenger.createMessage(options.channelId, first, options.replyTo);
    reply.#messageId = sent.id;
    return reply;
  }

  /** A reply whose first message was posted by an earlier process. */
  static restore(options: ChannelReplyOptions, messageId: string | undefined): ChannelReply {
    const reply = new ChannelReply(options);
    reply.#messageId = messageId;
    return reply;
  }

  get messageId(): string | undefined {
    return this.#messageId;
  }

  record(): ReplyTargetRecord {
    const { channelId, replyTo } = this.options;
    return { kind: 'channel', channelId, replyTo, messageId: this.#messageId };
  }

  async update(message: OutgoingMessage): Promise<void> {
    if (!this.#messageId) return;
    await this.options.messenger.editMessage(this.options.channelId, this.#messageId, message, 'status');
  }

  async deliver(message: OutgoingMessage): Promise<SentMessage> {
    const { messenger, channelId, replyTo, logger } = this.options;
    if (this.#messageId) {
      try {
        const sent = await messenger.editMessage(channelId, this.#messageId, message, 'final');
        return { id: sent.id || this.#messageId, channelId };
      } catch (error) {
        // Someone deleted the status message: post the result afresh rather than lose it.
        if (!isUnknownMessage(error) && !isServerError(error)) throw error;
        logger.warn({ err: describeDiscordError(error) }, 'status message gone; posting the result as a new message');
      }
    }
    const sent = await messenger.createMessage(channelId, message, replyTo);
    this.#messageId = sent.id;
    return { id: sent.id, channelId };
  }
}
