import { REST, Routes, type APIEmbed, type APIActionRowComponent, type APIComponentInMessageActionRow, type RawFile } from 'discord.js';

export interface OutgoingFile {
  name: string;
  data: Buffer;
}

/** A message as the bot sends it. Attachments are replaced wholesale on edit: `files` is the new set. */
export interface OutgoingMessage {
  content?: string;
  embeds?: APIEmbed[];
  components?: APIActionRowComponent<APIComponentInMessageActionRow>[];
  files?: OutgoingFile[];
  /** Users this message may ping; nobody else is ever pinged (prompts may contain @everyone). */
  mentionUsers?: string[];
}

export interface SentMessage {
  id: string;
  channelId: string;
}

/**
 * Which REST client carries a request. Previews go through their own client that refuses to wait on
 * a rate limit (it fails at once) and keeps its own per-route queue, so a rate-limited preview can
 * neither hold up nor be retried in front of a job's final message.
 */
export type Lane = 'status' | 'final';

export const MessageFlagEphemeral = 1 << 6;

function toBody(message: OutgoingMessage): { body: Record<string, unknown>; files: RawFile[] } {
  const files = message.files ?? [];
  return {
    body: {
      content: message.content ?? '',
      embeds: message.embeds ?? [],
      components: message.components ?? [],
      attachments: files.map((file, index) => ({ id: index, filename: file.name })),
      allowed_mentions: { parse: [], users: message.mentionUsers ?? [] },
    },
    files: files.map((file, index) => ({ name: file.name, data: file.data, key: `files[${index}]` })),
  };
}

function toSent(response: unknown): SentMessage {
  const message = response as { id?: unknown; channel_id?: unknown };
  return { id: String(message.id ?? ''), channelId: String(message.channel_id ?? '') };
}

/** The few Discord REST calls the bot makes outside discord.js's interaction helpers. */
export class DiscordMessenger {
  constructor(
    private readonly rest: REST,
    private readonly statusRest: REST,
    private readonly applicationId: string,
  ) {}

  static create(options: { rest: REST; apiUrl: string; token: string; applicationId: string }): DiscordMessenger {
    const statusRest = new REST({ api: options.apiUrl, rejectOnRateLimit: () => true, retries: 0, timeout: 10_000 });
    statusRest.setToken(options.token);
    return new DiscordMessenger(options.rest, statusRest, options.applicationId);
  }

  async editOriginal(interactionToken: string, message: OutgoingMessage, lane: Lane): Promise<SentMessage> {
    const { body, files } = toBody(message);
    const response = await this.#rest(lane).patch(Routes.webhookMessage(this.applicationId, interactionToken, '@original'), {
      body,
      files,
      auth: false,
    });
    return toSent(response);
  }

  async followUp(interactionToken: string, message: OutgoingMessage, options: { ephemeral?: boolean } = {}): Promise<SentMessage> {
    const { body, files } = toBody(message);
    if (options.ephemeral) body.flags = MessageFlagEphemeral;
    const response = await this.rest.post(Routes.webhook(this.applicationId, interactionToken), { body, files, auth: false });
    return toSent(response);
  }

  async createMessage(channelId: string, message: OutgoingMessage, replyTo?: string): Promise<SentMessage> {
    const { body, files } = toBody(message);
    if (replyTo) body.message_reference = { message_id: replyTo, fail_if_not_exists: false };
    return toSent(await this.rest.post(Routes.channelMessages(channelId), { body, files }));
  }

  async editMessage(channelId: string, messageId: string, message: OutgoingMessage, lane: Lane): Promise<SentMessage> {
    const { body, files } = toBody(message);
    return toSent(await this.#rest(lane).patch(Routes.channelMessage(channelId, messageId), { body, files }));
  }

  /** The bot's DM channel with a user (Discord creates it on first use). */
  async openDm(userId: string): Promise<string> {
    const channel = (await this.rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as { id?: unknown };
    return String(channel.id ?? '');
  }

  async deleteMessage(channelId: string, messageId: string): Promise<void> {
    await this.rest.delete(Routes.channelMessage(channelId, messageId));
  }

  async addReaction(channelId: string, messageId: string, emoji: string): Promise<void> {
    await this.rest.put(Routes.channelMessageOwnReaction(channelId, messageId, encodeURIComponent(emoji)));
  }

  /** Stops the status client's sweep timers (the main client belongs to discord.js). */
  close(): void {
    this.statusRest.clearHashSweeper();
    this.statusRest.clearHandlerSweeper();
  }

  #rest(lane: Lane): REST {
    return lane === 'status' ? this.statusRest : this.rest;
  }
}
