import {
  ChannelType,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  PermissionFlagsBits,
} from 'discord-api-types/v10';
import type { ChannelFlags, GuildMemberFlags, Locale, RoleFlags, UserFlags } from 'discord-api-types/v10';
import type {
  APIApplicationCommand,
  APIApplicationCommandPermission,
  APIAttachment,
  APIGuild,
  APIGuildMember,
  APIMessage,
  APIPartialEmoji,
  APIReaction,
  APIRole,
  APIDMChannel,
  APITextChannel,
  APIThreadChannel,
  APIUser,
  GatewayGuildCreateDispatchData,
} from 'discord-api-types/v10';
import { snowflake } from './snowflake.ts';

/** An attachment as Discord describes it, plus the uploaded bytes so tests can decode images. */
export interface FakeAttachment extends APIAttachment {
  data: Buffer;
}

/**
 * A stored message: Discord's message object (snake_case, as the API returns it) with attachment
 * bytes kept. Stored messages are replaced, never mutated, on every change, so a reference a test
 * holds (e.g. in an edit record) is a snapshot of that moment.
 */
export type FakeMessage = Omit<APIMessage, 'attachments' | 'referenced_message'> & {
  attachments: FakeAttachment[];
  referenced_message?: FakeMessage | null;
  guild_id?: string;
};

export interface FakeMember {
  guildId: string;
  userId: string;
  roles: string[];
  nick: string | null;
  joinedAt: string;
}

export interface FakeGuild {
  id: string;
  name: string;
  ownerId: string;
  joinedAt: string;
  preferredLocale: Locale;
  roles: Map<string, APIRole>;
  channelIds: string[];
  members: Map<string, FakeMember>;
}

export interface FakeChannel {
  id: string;
  /** Empty for a DM channel. */
  guildId: string;
  name: string;
  type: ChannelType.GuildText | ChannelType.DM | ChannelType.PublicThread;
  /** For a thread: the channel it was started in (whose settings a bot should apply). */
  parentId?: string;
  /** For a DM channel: the user at the other end. */
  recipientId?: string;
  position: number;
  topic: string | null;
  nsfw: boolean;
  lastMessageId: string | null;
}

export interface ReactionEntry {
  emoji: APIPartialEmoji;
  userIds: string[];
}

export const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((acc, bit) => acc | bit, 0n);

/** Roughly what Discord gives @everyone in a new server. */
export const DEFAULT_EVERYONE_PERMISSIONS =
  PermissionFlagsBits.CreateInstantInvite |
  PermissionFlagsBits.ChangeNickname |
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseExternalEmojis |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.UseApplicationCommands |
  PermissionFlagsBits.Connect |
  PermissionFlagsBits.Speak;

/** What a typical invite link for an image bot grants its managed role. */
export const DEFAULT_BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseExternalEmojis;

export function emojiKey(emoji: APIPartialEmoji): string {
  return emoji.id ? `${emoji.name ?? ''}:${emoji.id}` : (emoji.name ?? '');
}

/** Parses a (decoded) `{emoji}` path segment: a unicode emoji or `name:id` for a custom one. */
export function parseEmoji(decoded: string): APIPartialEmoji {
  const custom = /^(?:a:)?([\w~]+):(\d{17,20})$/.exec(decoded);
  if (custom) return { id: custom[2]!, name: custom[1]!, animated: decoded.startsWith('a:') };
  return { id: null, name: decoded };
}

export class State {
  readonly applicationId: string;
  readonly botUser: APIUser;
  readonly users = new Map<string, APIUser>();
  readonly guilds = new Map<string, FakeGuild>();
  readonly channels = new Map<string, FakeChannel>();
  /** channelId -> messageId -> message, in creation order. */
  readonly messages = new Map<string, Map<string, FakeMessage>>();
  /** messageId -> emoji key -> who reacted, in reaction order. */
  readonly reactions = new Map<string, Map<string, ReactionEntry>>();
  readonly globalCommands = new Map<string, APIApplicationCommand>();
  readonly guildCommands = new Map<string, Map<string, APIApplicationCommand>>();
  /** guildId -> command id (or the application id, for all its commands) -> overrides set in Server Settings › Integrations. */
  readonly commandPermissions = new Map<string, Map<string, APIApplicationCommandPermission[]>>();
  /** userId -> their DM channel with the bot. */
  readonly dmChannels = new Map<string, FakeChannel>();
  /** Users whose privacy settings refuse DMs from the bot (Discord answers 50007). */
  readonly dmsClosed = new Set<string>();
  /** Every attachment ever stored, by id, for the CDN route and attachment command options. */
  readonly attachments = new Map<string, FakeAttachment>();

  constructor(applicationId: string, botName: string) {
    this.applicationId = applicationId;
    // Discord bots' user id equals their application id for apps created since 2020.
    this.botUser = {
      id: applicationId,
      username: botName,
      discriminator: '0000',
      global_name: null,
      avatar: null,
      bot: true,
      verified: true,
      mfa_enabled: false,
      flags: 0 as UserFlags,
      email: null,
    };
    this.users.set(this.botUser.id, this.botUser);
  }

  addUser(options: { username: string; id?: string; globalName?: string | null; bot?: boolean }): APIUser {
    const user: APIUser = {
      id: options.id ?? snowflake(),
      username: options.username,
      discriminator: '0',
      global_name: options.globalName ?? null,
      avatar: null,
      public_flags: 0 as UserFlags,
      ...(options.bot ? { bot: true } : {}),
    };
    this.users.set(user.id, user);
    return user;
  }

  user(id: string): APIUser {
    const user = this.users.get(id);
    if (!user) throw new Error(`FakeDiscord: unknown user ${id}; create it with addUser()`);
    return user;
  }

  guild(id: string): FakeGuild {
    const guild = this.guilds.get(id);
    if (!guild) throw new Error(`FakeDiscord: unknown guild ${id}; create it with addGuild()`);
    return guild;
  }

  channel(id: string): FakeChannel {
    const channel = this.channels.get(id);
    if (!channel) throw new Error(`FakeDiscord: unknown channel ${id}; create it with addChannel()`);
    return channel;
  }

  member(guildId: string, userId: string): FakeMember {
    const member = this.guild(guildId).members.get(userId);
    if (!member) throw new Error(`FakeDiscord: user ${userId} is not a member of guild ${guildId}; use addMember()`);
    return member;
  }

  channelMessages(channelId: string): Map<string, FakeMessage> {
    let map = this.messages.get(channelId);
    if (!map) this.messages.set(channelId, (map = new Map()));
    return map;
  }

  findMessage(messageId: string): FakeMessage | undefined {
    for (const map of this.messages.values()) {
      const message = map.get(messageId);
      if (message) return message;
    }
    return undefined;
  }

  putMessage(message: FakeMessage): void {
    this.channelMessages(message.channel_id).set(message.id, message);
    for (const attachment of message.attachments) this.attachments.set(attachment.id, attachment);
  }

  createRole(guild: FakeGuild, options: { name: string; permissions: bigint; managed?: boolean; botId?: string; id?: string }): APIRole {
    const role: APIRole = {
      id: options.id ?? snowflake(),
      name: options.name,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position: options.id === guild.id ? 0 : guild.roles.size,
      permissions: options.permissions.toString(),
      managed: options.managed ?? false,
      mentionable: false,
      flags: 0 as RoleFlags,
      ...(options.botId ? { tags: { bot_id: options.botId } } : {}),
    };
    guild.roles.set(role.id, role);
    return role;
  }

  /** Guild-level permissions (no channel overwrites: the fake has none). */
  permissions(guildId: string, userId: string): bigint {
    const guild = this.guild(guildId);
    if (guild.ownerId === userId) return ALL_PERMISSIONS;
    const member = guild.members.get(userId);
    let bits = BigInt(guild.roles.get(guild.id)?.permissions ?? '0');
    for (const roleId of member?.roles ?? []) bits |= BigInt(guild.roles.get(roleId)?.permissions ?? '0');
    return bits & PermissionFlagsBits.Administrator ? ALL_PERMISSIONS : bits;
  }

  hasPermission(guildId: string, userId: string, bit: bigint): boolean {
    return (this.permissions(guildId, userId) & bit) === bit;
  }

  // ---- serialisers: the exact shapes Discord sends -------------------------------------------

  memberToApi(member: FakeMember): APIGuildMember {
    return { user: this.user(member.userId), ...this.partialMemberToApi(member) };
  }

  /** The member object of message events, which omits `user` (the message author is the user). */
  partialMemberToApi(member: FakeMember): Omit<APIGuildMember, 'user'> {
    return {
      nick: member.nick,
      avatar: null,
      banner: null,
      roles: [...member.roles],
      joined_at: member.joinedAt,
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0 as GuildMemberFlags,
      pending: false,
      communication_disabled_until: null,
    };
  }

  /** The bot's DM channel with `userId`, created on first use as Discord does. */
  openDm(userId: string): FakeChannel {
    let channel = this.dmChannels.get(userId);
    if (!channel) {
      channel = { id: snowflake(), guildId: '', name: '', type: ChannelType.DM, recipientId: userId, position: 0, topic: null, nsfw: false, lastMessageId: null };
      this.dmChannels.set(userId, channel);
      this.channels.set(channel.id, channel);
    }
    return channel;
  }

  dmChannelToApi(channel: FakeChannel): APIDMChannel {
    return {
      id: channel.id,
      type: ChannelType.DM,
      name: null,
      last_message_id: channel.lastMessageId,
      recipients: [this.user(channel.recipientId ?? '')],
      flags: 0 as ChannelFlags,
    };
  }

  channelToApi(channel: FakeChannel): APITextChannel | APIThreadChannel {
    if (channel.type === ChannelType.PublicThread) return this.threadToApi(channel);
    return {
      id: channel.id,
      type: ChannelType.GuildText,
      guild_id: channel.guildId,
      name: channel.name,
      position: channel.position,
      permission_overwrites: [],
      parent_id: null,
      nsfw: channel.nsfw,
      topic: channel.topic,
      last_message_id: channel.lastMessageId,
      rate_limit_per_user: 0,
      flags: 0 as ChannelFlags,
    };
  }

  threadToApi(channel: FakeChannel): APIThreadChannel {
    return {
      id: channel.id,
      type: ChannelType.PublicThread,
      guild_id: channel.guildId,
      name: channel.name,
      parent_id: channel.parentId ?? null,
      owner_id: this.botUser.id,
      nsfw: channel.nsfw,
      last_message_id: channel.lastMessageId,
      rate_limit_per_user: 0,
      message_count: 0,
      member_count: 1,
      total_message_sent: 0,
      thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date(0).toISOString(), locked: false },
      flags: 0 as ChannelFlags,
    } as APIThreadChannel;
  }

  guildToApi(guild: FakeGuild): APIGuild {
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      icon_hash: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: guild.ownerId,
      afk_channel_id: null,
      afk_timeout: 300,
      widget_enabled: false,
      widget_channel_id: null,
      verification_level: GuildVerificationLevel.None,
      default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
      explicit_content_filter: GuildExplicitContentFilter.Disabled,
      roles: [...guild.roles.values()],
      emojis: [],
      stickers: [],
      features: [],
      mfa_level: GuildMFALevel.None,
      application_id: null,
      system_channel_id: guild.channelIds[0] ?? null,
      system_channel_flags: GuildSystemChannelFlags.SuppressJoinNotificationReplies,
      rules_channel_id: null,
      max_presences: null,
      max_members: 500_000,
      vanity_url_code: null,
      premium_tier: GuildPremiumTier.None,
      premium_subscription_count: 0,
      preferred_locale: guild.preferredLocale,
      public_updates_channel_id: null,
      max_video_channel_users: 25,
      max_stage_video_channel_users: 50,
      nsfw_level: GuildNSFWLevel.Default,
      premium_progress_bar_enabled: false,
      hub_type: null,
      safety_alerts_channel_id: null,
      incidents_data: null,
    };
  }

  guildCreatePayload(guild: FakeGuild): GatewayGuildCreateDispatchData {
    return {
      ...this.guildToApi(guild),
      joined_at: guild.joinedAt,
      large: false,
      unavailable: false,
      member_count: guild.members.size,
      voice_states: [],
      members: [...guild.members.values()].map((m) => this.memberToApi(m)),
      // Threads are never in channelIds: they are listed under `threads`.
      channels: guild.channelIds.map((id) => this.channelToApi(this.channel(id)) as APITextChannel),
      threads: [...this.channels.values()].filter((c) => c.guildId === guild.id && c.type === ChannelType.PublicThread).map((c) => this.threadToApi(c)),
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  reactionsToApi(messageId: string): APIReaction[] | undefined {
    const map = this.reactions.get(messageId);
    if (!map || map.size === 0) return undefined;
    return [...map.values()].map((entry) => ({
      count: entry.userIds.length,
      count_details: { burst: 0, normal: entry.userIds.length },
      me: entry.userIds.includes(this.botUser.id),
      me_burst: false,
      emoji: entry.emoji,
      burst_colors: [],
    }));
  }

  /** REST shape: attachment bytes stripped; gateway shape additionally carries guild_id and member. */
  messageToApi(message: FakeMessage, gateway = false): APIMessage & { guild_id?: string; member?: Omit<APIGuildMember, 'user'> } {
    const { attachments, referenced_message: referenced, guild_id: guildId, ...rest } = message;
    const api: APIMessage & { guild_id?: string; member?: Omit<APIGuildMember, 'user'> } = {
      ...rest,
      attachments: attachments.map(stripData),
      ...(referenced !== undefined ? { referenced_message: referenced ? this.messageToApi(referenced) : null } : {}),
    };
    if (gateway && guildId) {
      api.guild_id = guildId;
      const member = message.webhook_id ? undefined : this.guilds.get(guildId)?.members.get(message.author.id);
      if (member) api.member = this.partialMemberToApi(member);
    }
    return api;
  }
}

export function stripData(attachment: FakeAttachment): APIAttachment {
  const { data: _data, ...api } = attachment;
  return api;
}
