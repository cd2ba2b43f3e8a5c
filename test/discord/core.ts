import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ComponentType,
  GatewayDispatchEvents,
  InteractionContextType,
  InteractionType,
  Locale,
  MessageFlags,
  MessageType,
} from 'discord-api-types/v10';
import type {
  APIApplicationCommandInteractionDataOption,
  APIBaseInteraction,
  APIEmbed,
  APIInteractionDataResolved,
  APIPartialEmoji,
  APIUser,
} from 'discord-api-types/v10';
import { ApiError, FormErrors, apiError } from './errors.ts';
import type { Gateway } from './gateway.ts';
import { imageSize } from './multipart.ts';
import type { UploadedFile } from './multipart.ts';
import { State, emojiKey } from './model.ts';
import type { FakeAttachment, FakeChannel, FakeMessage } from './model.ts';
import { snowflake } from './snowflake.ts';
import { isEmptyMessage, validateMessageBody } from './validate.ts';
import type { MessageBody } from './validate.ts';

export interface CoreOptions {
  applicationId: string;
  botName: string;
  interactionAckTimeoutMs: number;
  tokenLifetimeMs: number;
  attachmentSizeLimit: number;
}

/** One POST to the interaction callback endpoint, accepted or not. */
export interface CallbackRecord {
  /** Interaction callback type (4 reply, 5 deferred reply, 6 deferred update, 7 update, 9 modal...). */
  type: number;
  /** The callback's `data` (message body, or `{ flags }` for a deferral). */
  data: Record<string, unknown> | undefined;
  /** Files uploaded with the callback, bytes included. */
  attachments: FakeAttachment[];
  /** ms between dispatching the interaction and this request arriving. */
  at: number;
  status: number;
  ok: boolean;
  error?: { code: number; message: string };
  ephemeral: boolean;
}

/** One PATCH of `@original` (failed ones included, with their status). */
export interface EditRecord {
  at: number;
  status: number;
  ok: boolean;
  /** The JSON body (payload_json for multipart). */
  body: Record<string, unknown> | undefined;
  /** Files uploaded in this request, bytes included. */
  attachments: FakeAttachment[];
  /** The @original message after the edit was applied (only when ok). */
  message?: FakeMessage;
  error?: { code: number; message: string };
}

export interface InteractionRecord {
  id: string;
  token: string;
  type: InteractionType;
  guildId: string;
  channelId: string;
  userId: string;
  commandName?: string;
  dispatchedAt: number;
  payload: APIBaseInteraction<InteractionType, unknown>;
  expired: boolean;
  acknowledged: boolean;
  ackType?: number;
  /** The message `@original` designates: the response for commands, the clicked message for components. */
  originalMessageId?: string;
  responses: CallbackRecord[];
  edits: EditRecord[];
  followUpIds: string[];
  /** False when no gateway session could take the INTERACTION_CREATE (client not logged in). */
  delivered: boolean;
}

const LOADING = MessageFlags.Loading;

/** Interaction tokens are long opaque strings; they sit in webhook URLs, so keep them URL-safe. */
function newInteractionIdentity(): { id: string; token: string } {
  const id = snowflake();
  return { id, token: `aW50ZXJhY3Rpb246${id}:${Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString('base64url')}` };
}

export class Core {
  readonly state: State;
  gateway!: Gateway;
  baseUrl = '';
  readonly interactions = new Map<string, InteractionRecord>();
  readonly interactionsByToken = new Map<string, InteractionRecord>();

  constructor(readonly options: CoreOptions) {
    this.state = new State(options.applicationId, options.botName);
  }

  get bot(): APIUser {
    return this.state.botUser;
  }

  // ---- messages ------------------------------------------------------------------------------

  private attachmentFromFile(channelId: string, file: UploadedFile, meta: { filename?: string; description?: string; title?: string } | undefined, ephemeral: boolean): FakeAttachment {
    const id = snowflake();
    // Discord replaces whitespace in uploaded filenames with underscores.
    const filename = (meta?.filename ?? file.filename).replace(/\s+/g, '_');
    const url = `${this.baseUrl}/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
    const size = imageSize(file.data, file.contentType);
    return {
      id,
      filename,
      size: file.data.length,
      url,
      proxy_url: url,
      content_type: file.contentType,
      ...(size ? { width: size.width, height: size.height } : {}),
      ...(meta?.description !== undefined ? { description: meta.description } : {}),
      ...(meta?.title !== undefined ? { title: meta.title } : {}),
      ...(ephemeral ? { ephemeral: true } : {}),
      data: file.data,
    };
  }

  /** Uploads with a `files[n]` field are referred to from `attachments` by id `n`. */
  private attachmentsForCreate(channelId: string, body: MessageBody, files: UploadedFile[], ephemeral: boolean): FakeAttachment[] {
    return files.map((file, i) => {
      const index = file.index ?? i;
      const meta = body.attachments?.find((a) => String(a.id) === String(index));
      return this.attachmentFromFile(channelId, file, meta, ephemeral);
    });
  }

  /**
   * API v10 edit semantics: when `attachments` is present it is the complete list to keep
   * (existing ones by snowflake, new uploads by file index); when absent, existing attachments stay
   * and new uploads are appended.
   */
  private attachmentsForEdit(message: FakeMessage, body: MessageBody, files: UploadedFile[]): FakeAttachment[] {
    const ephemeral = ((message.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
    if (body.attachments == null) {
      if (body.attachments === null) return this.attachmentsForCreate(message.channel_id, {}, files, ephemeral);
      return [...message.attachments, ...this.attachmentsForCreate(message.channel_id, {}, files, ephemeral)];
    }
    const used = new Set<UploadedFile>();
    const errors = new FormErrors();
    const result: FakeAttachment[] = [];
    body.attachments.forEach((entry, i) => {
      const existing = message.attachments.find((a) => a.id === String(entry.id));
      if (existing) {
        result.push(entry.description !== undefined ? { ...existing, description: entry.description } : existing);
        return;
      }
      const fileIndex = files.findIndex((f, j) => String(f.index ?? j) === String(entry.id));
      const file = files[fileIndex];
      if (!file) {
        errors.add(`attachments.${i}`, 'ATTACHMENT_NOT_FOUND', `Attachment data not found`);
        return;
      }
      used.add(file);
      result.push(this.attachmentFromFile(message.channel_id, file, entry, ephemeral));
    });
    if (!errors.empty) throw errors.toError();
    for (const file of files) if (!used.has(file)) result.push(this.attachmentFromFile(message.channel_id, file, undefined, ephemeral));
    return result;
  }

  /** Discord rewrites `attachment://name` image URLs in embeds to the uploaded file's CDN URL. */
  private resolveEmbeds(embeds: Record<string, unknown>[], attachments: FakeAttachment[]): APIEmbed[] {
    const resolveMedia = (media: unknown): unknown => {
      if (!media || typeof media !== 'object') return media;
      const url = (media as { url?: unknown }).url;
      if (typeof url !== 'string' || !url.startsWith('attachment://')) return media;
      const attachment = attachments.find((a) => a.filename === url.slice('attachment://'.length));
      if (!attachment) return media;
      return {
        url: attachment.url,
        proxy_url: attachment.proxy_url,
        ...(attachment.width != null ? { width: attachment.width, height: attachment.height } : {}),
        content_type: attachment.content_type,
        flags: 0,
      };
    };
    return embeds.map((embed) => {
      const resolved: Record<string, unknown> = { type: 'rich', ...embed };
      for (const key of ['image', 'thumbnail']) if (key in embed) resolved[key] = resolveMedia(embed[key]);
      if (resolved.color === null) delete resolved.color;
      return resolved as APIEmbed;
    });
  }

  private mentions(content: string, guildId: string | undefined, body: MessageBody): { mentions: APIUser[]; mention_roles: string[]; mention_everyone: boolean } {
    const parse = body.allowed_mentions?.parse;
    const users = [...content.matchAll(/<@!?(\d{17,20})>/g)]
      .map((m) => this.state.users.get(m[1]!))
      .filter((u): u is APIUser => u !== undefined);
    const roles = guildId
      ? [...content.matchAll(/<@&(\d{17,20})>/g)].map((m) => m[1]!).filter((id) => this.state.guilds.get(guildId)?.roles.has(id))
      : [];
    const everyone = /@(everyone|here)/.test(content) && (!body.allowed_mentions || (parse?.includes('everyone') ?? false));
    return { mentions: dedupe(users), mention_roles: [...new Set(roles)], mention_everyone: everyone };
  }

  createMessage(options: {
    channelId: string;
    author: APIUser;
    body: MessageBody;
    files: UploadedFile[];
    type?: MessageType;
    webhookId?: string;
    interaction?: InteractionRecord;
    ephemeral?: boolean;
    loading?: boolean;
    followUpOf?: InteractionRecord;
    dispatch?: boolean;
  }): FakeMessage {
    const { channelId, author, body, files } = options;
    const channel = this.state.channel(channelId);
    validateMessageBody(body, files, this.options.attachmentSizeLimit);
    const ephemeral = options.ephemeral ?? false;
    const attachments = this.attachmentsForCreate(channelId, body, files, ephemeral);
    const content = body.content ?? '';
    let referenced: FakeMessage | null | undefined;
    let reference: FakeMessage['message_reference'];
    if (body.message_reference?.message_id) {
      const target = this.state.channelMessages(body.message_reference.channel_id ?? channelId).get(body.message_reference.message_id);
      if (!target && body.message_reference.fail_if_not_exists !== false) {
        const errors = new FormErrors();
        errors.add('message_reference', 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message');
        throw errors.toError();
      }
      if (target) {
        referenced = target;
        reference = { type: 0, message_id: target.id, channel_id: target.channel_id, guild_id: channel.guildId };
      }
    }
    const mentions = this.mentions(content, channel.guildId, body);
    // Replies ping the replied-to author unless allowed_mentions says otherwise (and when it is
    // given, replied_user defaults to false).
    const pingReplied = body.allowed_mentions ? body.allowed_mentions.replied_user === true : true;
    if (referenced && pingReplied && !mentions.mentions.some((u) => u.id === referenced.author.id)) {
      mentions.mentions.push(referenced.author);
    }
    const flags = ((body.flags ?? 0) & (MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications | MessageFlags.IsComponentsV2)) |
      (ephemeral ? MessageFlags.Ephemeral : 0) |
      (options.loading ? LOADING : 0);
    const interaction = options.interaction ?? options.followUpOf;
    const message: FakeMessage = {
      id: snowflake(),
      type: options.type ?? (referenced ? MessageType.Reply : MessageType.Default),
      channel_id: channelId,
      guild_id: channel.guildId,
      author,
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: body.tts ?? false,
      ...mentions,
      mention_channels: [],
      attachments,
      embeds: this.resolveEmbeds(body.embeds ?? [], attachments),
      components: (body.components ?? []) as unknown as FakeMessage['components'],
      pinned: false,
      flags,
      ...(body.nonce !== undefined ? { nonce: body.nonce } : {}),
      ...(options.webhookId ? { webhook_id: options.webhookId, application_id: this.options.applicationId } : {}),
      ...(reference ? { message_reference: reference, referenced_message: referenced } : {}),
      ...(interaction ? this.interactionFields(interaction, options.followUpOf !== undefined) : {}),
    };
    if (!options.loading && isEmptyMessage(message)) throw apiError(400, 50006);
    this.state.putMessage(message);
    channel.lastMessageId = message.id;
    if (options.dispatch !== false) this.dispatchMessage(GatewayDispatchEvents.MessageCreate, message);
    return message;
  }

  private interactionFields(record: InteractionRecord, followUp: boolean): Partial<FakeMessage> {
    const user = this.state.user(record.userId);
    const owners = { [ApplicationIntegrationType.GuildInstall]: record.guildId };
    const metadata =
      record.type === InteractionType.MessageComponent
        ? { id: record.id, type: InteractionType.MessageComponent as const, user, authorizing_integration_owners: owners, interacted_message_id: record.originalMessageId ?? '' }
        : { id: record.id, type: InteractionType.ApplicationCommand as const, user, authorizing_integration_owners: owners, name: record.commandName, command_type: ApplicationCommandType.ChatInput };
    if (followUp && record.originalMessageId) Object.assign(metadata, { original_response_message_id: record.originalMessageId });
    return {
      interaction_metadata: metadata as FakeMessage['interaction_metadata'],
      ...(record.type === InteractionType.ApplicationCommand
        ? { interaction: { id: record.id, type: record.type, name: record.commandName ?? '', user } }
        : {}),
    };
  }

  editMessage(message: FakeMessage, body: MessageBody, files: UploadedFile[]): FakeMessage {
    validateMessageBody(body, files, this.options.attachmentSizeLimit);
    const attachments = this.attachmentsForEdit(message, body, files);
    const content = body.content === undefined ? message.content : (body.content ?? '');
    const embedsSource = body.embeds === undefined ? undefined : (body.embeds ?? []);
    const mentions = body.content === undefined ? {} : this.mentions(content, message.guild_id, body);
    // Only SUPPRESS_EMBEDS may be toggled by an edit; the first edit of a deferred reply ends "thinking".
    let flags = (message.flags ?? 0) & ~LOADING;
    if (body.flags != null) flags = (flags & ~MessageFlags.SuppressEmbeds) | (body.flags & MessageFlags.SuppressEmbeds);
    const updated: FakeMessage = {
      ...message,
      ...mentions,
      content,
      attachments,
      embeds: embedsSource ? this.resolveEmbeds(embedsSource, attachments) : message.embeds,
      components: body.components === undefined ? message.components : ((body.components ?? []) as unknown as FakeMessage['components']),
      flags,
      edited_timestamp: new Date().toISOString(),
    };
    if (isEmptyMessage(updated)) throw apiError(400, 50006);
    this.state.putMessage(updated);
    this.dispatchMessage(GatewayDispatchEvents.MessageUpdate, updated);
    return updated;
  }

  deleteMessage(message: FakeMessage): void {
    this.state.channelMessages(message.channel_id).delete(message.id);
    this.state.reactions.delete(message.id);
    if ((message.flags ?? 0) & MessageFlags.Ephemeral) return;
    this.gateway.dispatch(GatewayDispatchEvents.MessageDelete, { id: message.id, channel_id: message.channel_id, guild_id: message.guild_id });
  }

  /** Ephemeral messages only exist for their recipient: the gateway never carries them. */
  private dispatchMessage(t: GatewayDispatchEvents.MessageCreate | GatewayDispatchEvents.MessageUpdate, message: FakeMessage): void {
    if ((message.flags ?? 0) & MessageFlags.Ephemeral) return;
    this.gateway.dispatch(t, this.state.messageToApi(message, true));
  }

  /** Re-stores a message with its `reactions` array recomputed (stored messages are immutable snapshots). */
  private refreshReactions(message: FakeMessage): FakeMessage {
    const reactions = this.state.reactionsToApi(message.id);
    const { reactions: _old, ...rest } = message;
    const updated: FakeMessage = reactions ? { ...rest, reactions } : rest;
    this.state.putMessage(updated);
    return updated;
  }

  addReaction(message: FakeMessage, userId: string, emoji: APIPartialEmoji): void {
    let map = this.state.reactions.get(message.id);
    if (!map) this.state.reactions.set(message.id, (map = new Map()));
    const key = emojiKey(emoji);
    let entry = map.get(key);
    if (!entry) map.set(key, (entry = { emoji, userIds: [] }));
    // Reacting twice with the same emoji is a no-op on Discord, without a second event.
    if (entry.userIds.includes(userId)) return;
    entry.userIds.push(userId);
    this.refreshReactions(message);
    const guildMember = message.guild_id ? this.state.guilds.get(message.guild_id)?.members.get(userId) : undefined;
    this.gateway.dispatch(GatewayDispatchEvents.MessageReactionAdd, {
      user_id: userId,
      channel_id: message.channel_id,
      message_id: message.id,
      ...(message.guild_id ? { guild_id: message.guild_id } : {}),
      ...(guildMember ? { member: this.state.memberToApi(guildMember) } : {}),
      emoji,
      message_author_id: message.author.id,
      burst: false,
      burst_colors: [],
      type: 0,
    });
  }

  removeReaction(message: FakeMessage, userId: string, emoji: APIPartialEmoji): boolean {
    const map = this.state.reactions.get(message.id);
    const key = emojiKey(emoji);
    const entry = map?.get(key);
    if (!map || !entry || !entry.userIds.includes(userId)) return false;
    entry.userIds = entry.userIds.filter((id) => id !== userId);
    if (entry.userIds.length === 0) map.delete(key);
    this.refreshReactions(message);
    this.gateway.dispatch(GatewayDispatchEvents.MessageReactionRemove, {
      user_id: userId,
      channel_id: message.channel_id,
      message_id: message.id,
      ...(message.guild_id ? { guild_id: message.guild_id } : {}),
      emoji,
      burst: false,
      type: 0,
    });
    return true;
  }

  removeAllReactions(message: FakeMessage, emoji?: APIPartialEmoji): void {
    const map = this.state.reactions.get(message.id);
    if (!map) return;
    if (emoji) map.delete(emojiKey(emoji));
    else map.clear();
    this.refreshReactions(message);
    const base = { channel_id: message.channel_id, message_id: message.id, ...(message.guild_id ? { guild_id: message.guild_id } : {}) };
    if (emoji) this.gateway.dispatch(GatewayDispatchEvents.MessageReactionRemoveEmoji, { ...base, emoji });
    else this.gateway.dispatch(GatewayDispatchEvents.MessageReactionRemoveAll, base);
  }

  // ---- interactions --------------------------------------------------------------------------

  private interactionBase(type: InteractionType, userId: string, guildId: string, channel: FakeChannel): InteractionRecord {
    const guild = this.state.guild(guildId);
    const member = guild.members.get(userId);
    if (!member) throw new Error(`FakeDiscord: user ${userId} is not a member of guild ${guildId}; use addMember()`);
    if (channel.guildId !== guildId) throw new Error(`FakeDiscord: channel ${channel.id} is not in guild ${guildId}`);
    const { id, token } = newInteractionIdentity();
    const payload: APIBaseInteraction<InteractionType, unknown> = {
      id,
      application_id: this.options.applicationId,
      type,
      token,
      version: 1,
      guild_id: guildId,
      guild: { id: guildId, locale: guild.preferredLocale, features: [] },
      channel_id: channel.id,
      channel: { ...this.state.channelToApi(channel) },
      member: {
        ...this.state.memberToApi(member),
        user: this.state.user(userId),
        permissions: this.state.permissions(guildId, userId).toString(),
      },
      app_permissions: this.state.permissions(guildId, this.bot.id).toString(),
      locale: Locale.EnglishUS,
      guild_locale: guild.preferredLocale,
      entitlements: [],
      authorizing_integration_owners: { [ApplicationIntegrationType.GuildInstall]: guildId },
      context: InteractionContextType.Guild,
      attachment_size_limit: this.options.attachmentSizeLimit,
    };
    return {
      id,
      token,
      type,
      guildId,
      channelId: channel.id,
      userId,
      dispatchedAt: Date.now(),
      payload,
      expired: false,
      acknowledged: false,
      responses: [],
      edits: [],
      followUpIds: [],
      delivered: false,
    };
  }

  /** An interaction in the bot's DM with `userId`: no guild, `user` instead of `member`, context BotDM. */
  private dmInteractionBase(type: InteractionType, userId: string): InteractionRecord {
    const channel = this.state.openDm(userId);
    const { id, token } = newInteractionIdentity();
    const payload: APIBaseInteraction<InteractionType, unknown> = {
      id,
      application_id: this.options.applicationId,
      type,
      token,
      version: 1,
      channel_id: channel.id,
      channel: this.state.dmChannelToApi(channel),
      user: this.state.user(userId),
      app_permissions: '0',
      locale: Locale.EnglishUS,
      entitlements: [],
      authorizing_integration_owners: { [ApplicationIntegrationType.GuildInstall]: '0' },
      context: InteractionContextType.BotDM,
      attachment_size_limit: this.options.attachmentSizeLimit,
    };
    return {
      id,
      token,
      type,
      guildId: '',
      channelId: channel.id,
      userId,
      dispatchedAt: Date.now(),
      payload,
      expired: false,
      acknowledged: false,
      responses: [],
      edits: [],
      followUpIds: [],
      delivered: false,
    };
  }

  sendDmCommand(options: { userId: string; name: string; options?: APIApplicationCommandInteractionDataOption[] }): InteractionRecord {
    const record = this.dmInteractionBase(InteractionType.ApplicationCommand, options.userId);
    const command = [...this.state.globalCommands.values()].find((c) => c.name === options.name && c.type === ApplicationCommandType.ChatInput);
    record.commandName = options.name;
    record.payload.data = {
      id: command?.id ?? snowflake(),
      name: options.name,
      type: ApplicationCommandType.ChatInput,
      ...(options.options ? { options: options.options } : {}),
    };
    return this.register(record);
  }

  private register(record: InteractionRecord): InteractionRecord {
    this.interactions.set(record.id, record);
    this.interactionsByToken.set(record.token, record);
    record.dispatchedAt = Date.now();
    record.delivered = this.gateway.dispatch(GatewayDispatchEvents.InteractionCreate, record.payload);
    return record;
  }

  sendCommand(options: {
    userId: string;
    guildId: string;
    channelId: string;
    name: string;
    options?: APIApplicationCommandInteractionDataOption[];
    commandType?: ApplicationCommandType;
    /** An autocomplete request (one option carries `focused: true`) instead of a command run. */
    autocomplete?: boolean;
  }): InteractionRecord {
    const channel = this.state.channel(options.channelId);
    const interactionType = options.autocomplete ? InteractionType.ApplicationCommandAutocomplete : InteractionType.ApplicationCommand;
    const record = this.interactionBase(interactionType, options.userId, options.guildId, channel);
    const type = options.commandType ?? ApplicationCommandType.ChatInput;
    // Prefer the id the bot registered (guild command first, as Discord resolves it), so
    // interaction.command and commandGuildId line up with the registration.
    const guildCommand = [...(this.state.guildCommands.get(options.guildId)?.values() ?? [])].find((c) => c.name === options.name && c.type === type);
    const command = guildCommand ?? [...this.state.globalCommands.values()].find((c) => c.name === options.name && c.type === type);
    const resolved = this.resolveOptions(options.options ?? [], options.guildId);
    record.commandName = options.name;
    record.payload.data = {
      id: command?.id ?? snowflake(),
      name: options.name,
      type,
      ...(options.options ? { options: options.options } : {}),
      ...(resolved ? { resolved } : {}),
      ...(guildCommand ? { guild_id: options.guildId } : {}),
    };
    return this.register(record);
  }

  /** Builds `data.resolved` for user/channel/role/mentionable/attachment options, as Discord does. */
  private resolveOptions(options: APIApplicationCommandInteractionDataOption[], guildId: string): APIInteractionDataResolved | undefined {
    const resolved: Required<Pick<APIInteractionDataResolved, 'users' | 'members' | 'roles' | 'channels' | 'attachments'>> = {
      users: {},
      members: {},
      roles: {},
      channels: {},
      attachments: {},
    };
    let any = false;
    const guild = this.state.guild(guildId);
    const visit = (list: APIApplicationCommandInteractionDataOption[]): void => {
      for (const option of list) {
        if ('options' in option && option.options) visit(option.options as APIApplicationCommandInteractionDataOption[]);
        if (!('value' in option) || typeof option.value !== 'string') continue;
        const id = option.value;
        const type = option.type;
        if (type === ApplicationCommandOptionType.User || type === ApplicationCommandOptionType.Mentionable) {
          const user = this.state.users.get(id);
          if (user) {
            resolved.users[id] = user;
            const member = guild.members.get(id);
            if (member) {
              const { user: _user, deaf: _d, mute: _m, ...rest } = this.state.memberToApi(member);
              resolved.members[id] = { ...rest, permissions: this.state.permissions(guildId, id).toString() };
            }
            any = true;
          }
        }
        if (type === ApplicationCommandOptionType.Role || type === ApplicationCommandOptionType.Mentionable) {
          const role = guild.roles.get(id);
          if (role) {
            resolved.roles[id] = role;
            any = true;
          }
        }
        if (type === ApplicationCommandOptionType.Channel) {
          const channel = this.state.channels.get(id);
          if (channel) {
            resolved.channels[id] = { ...this.state.channelToApi(channel), permissions: this.state.permissions(guildId, this.bot.id).toString() } as never;
            any = true;
          }
        }
        if (type === ApplicationCommandOptionType.Attachment) {
          const attachment = this.state.attachments.get(id);
          if (attachment) {
            const { data: _data, ...api } = attachment;
            resolved.attachments[id] = api;
            any = true;
          }
        }
      }
    };
    visit(options);
    return any ? resolved : undefined;
  }

  pressComponent(options: {
    userId: string;
    guildId: string;
    channelId: string;
    messageId: string;
    customId: string;
    values?: string[];
  }): InteractionRecord {
    const channel = this.state.channel(options.channelId);
    const message = this.state.channelMessages(options.channelId).get(options.messageId);
    if (!message) throw new Error(`FakeDiscord: no message ${options.messageId} in channel ${options.channelId}`);
    const component = findComponent(message.components ?? [], options.customId);
    if (!component) {
      throw new Error(`FakeDiscord: message ${options.messageId} has no component with custom_id "${options.customId}" (a user could not click it)`);
    }
    if (component.disabled === true) throw new Error(`FakeDiscord: component "${options.customId}" is disabled`);
    const record = this.interactionBase(InteractionType.MessageComponent, options.userId, options.guildId, channel);
    record.originalMessageId = message.id;
    record.payload.message = this.state.messageToApi(message);
    record.payload.data = {
      custom_id: options.customId,
      component_type: component.type,
      ...(component.type !== ComponentType.Button ? { values: options.values ?? [] } : {}),
    };
    return this.register(record);
  }

  /** A user submits a modal that the bot opened from a message component (type 9 callback). */
  submitModal(options: { userId: string; guildId: string; channelId: string; messageId: string; customId: string; fields: Record<string, string> }): InteractionRecord {
    const channel = this.state.channel(options.channelId);
    const message = this.state.channelMessages(options.channelId).get(options.messageId);
    if (!message) throw new Error(`FakeDiscord: no message ${options.messageId} in channel ${options.channelId}`);
    const record = this.interactionBase(InteractionType.ModalSubmit, options.userId, options.guildId, channel);
    record.originalMessageId = message.id;
    record.payload.message = this.state.messageToApi(message);
    record.payload.data = {
      custom_id: options.customId,
      components: Object.entries(options.fields).map(([custom_id, value]) => ({
        type: ComponentType.ActionRow,
        components: [{ type: ComponentType.TextInput, custom_id, value }],
      })),
    };
    return this.register(record);
  }

  /** @original of an interaction webhook token (or throws the error Discord would answer). */
  interactionForToken(applicationId: string, token: string): InteractionRecord {
    const record = this.interactionsByToken.get(token);
    if (applicationId !== this.options.applicationId) throw apiError(404, 10015);
    if (!record || this.tokenExpired(record)) throw new ApiError(401, 50027, 'Invalid Webhook Token');
    return record;
  }

  tokenExpired(record: InteractionRecord): boolean {
    return record.expired || Date.now() - record.dispatchedAt > this.options.tokenLifetimeMs;
  }

  messageById(channelId: string, messageId: string): FakeMessage | undefined {
    return this.state.channelMessages(channelId).get(messageId);
  }

  original(record: InteractionRecord): FakeMessage | undefined {
    return record.originalMessageId ? this.messageById(record.channelId, record.originalMessageId) : undefined;
  }
}

function dedupe(users: APIUser[]): APIUser[] {
  return [...new Map(users.map((u) => [u.id, u])).values()];
}

interface AnyComponent {
  type: number;
  custom_id?: string;
  disabled?: boolean;
  components?: AnyComponent[];
  accessory?: AnyComponent;
}

function findComponent(components: unknown[], customId: string): AnyComponent | undefined {
  for (const raw of components as AnyComponent[]) {
    if (raw.custom_id === customId) return raw;
    const inner = findComponent([...(raw.components ?? []), ...(raw.accessory ? [raw.accessory] : [])], customId);
    if (inner) return inner;
  }
  return undefined;
}
