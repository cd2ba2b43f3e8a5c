/**
 * FakeDiscord: a Discord API (REST + gateway) on 127.0.0.1 that a real discord.js v14 Client can
 * log into, for end-to-end tests of the bot without the network.
 *
 * ```ts
 * const fake = await FakeDiscord.start({ applicationId?: string, ...FakeDiscordOptions });
 * const client = new Client({ intents: [...], partials: [...], rest: { api: fake.restUrl } });
 * await client.login(fake.token);            // any other token: REST 401, gateway close 4004
 *
 * // World (created before or after login; after login the matching gateway events are dispatched)
 * fake.restUrl: string                        // 'http://127.0.0.1:PORT/api' (discord.js appends /v10/...)
 * fake.gatewayUrl: string                     // 'ws://127.0.0.1:PORT' (what GET /gateway/bot answers)
 * fake.token: string; fake.botUser: APIUser; fake.applicationId: string  // bot user id === application id
 * fake.addGuild({ name, id?, ownerId?, botPermissions?: bigint, everyonePermissions?: bigint }): FakeGuild
 * fake.addChannel(guildId, { name, topic?, nsfw? }): FakeChannel
 * fake.addThread(parentId, { name, id? }): FakeChannel   // public thread (type 11, parent_id), THREAD_CREATE
 * fake.addUser({ username, id?, globalName?, bot? }): APIUser
 * fake.addMember(guildId, userId, { permissions?: bigint, roles?: string[], nick? }): FakeMember
 *     // `permissions` becomes a dedicated role, so both interaction member.permissions and
 *     // discord.js' own role-based computation agree.
 * fake.addRole(guildId, { name, permissions }): APIRole
 * fake.setBotPermissions(guildId, permissions: bigint): void   // the bot's managed role
 * fake.setRolePermissions(guildId, roleId, permissions: bigint): void  // @everyone's id is the guild id
 * fake.setCommandPermissions(guildId, [{ id, type, permission }], commandName?)  // GET .../commands/permissions
 * fake.uploadAttachment({ filename, data, contentType? }): FakeAttachment  // for ATTACHMENT (type 11) options
 * fake.attachmentDownloads: readonly string[]  // CDN paths fetched so far
 *
 * // Users acting (each dispatches over the gateway; the returned handle records the bot's answers)
 * await fake.sendCommand({ userId, guildId?, channelId, name, options?: APIApplicationCommandInteractionDataOption[] }): InteractionHandle
 * await fake.sendDmCommand({ userId, name, options? }): InteractionHandle  // in the bot's DM (context BotDM)
 * await fake.pressButton({ userId, guildId?, channelId, messageId, customId, values? }): InteractionHandle
 *     // the message must carry an enabled component with that custom_id (else it throws)
 * await fake.submitModal({ userId, guildId?, channelId, messageId, customId, fields }): InteractionHandle
 *     // MODAL_SUBMIT for a modal opened from a component on messageId; fields: text input custom_id → value
 * await fake.addReaction({ userId, guildId?, channelId, messageId, emoji }): void   // MESSAGE_REACTION_ADD with member
 * await fake.removeReaction({ userId, channelId, messageId, emoji }): void
 * fake.postMessage({ userId, channelId, content?, dispatch? = true }): FakeMessage
 *     // a user's message; dispatch: false seeds one the client never saw (partials tests)
 *
 * // InteractionHandle
 * i.id; i.token; i.type; i.dispatchedAt; i.acknowledged; i.payload (the raw INTERACTION_CREATE data)
 * await i.waitForResponse({ timeoutMs? }): CallbackRecord  // first ACCEPTED callback; rejects once the
 *                                                          // 3 s ack window closes without one, or at
 *                                                          // once if no gateway session took the event
 * i.responses: CallbackRecord[]  // every callback POST: { type, data, attachments, at (ms after dispatch), status, ok, ephemeral, error? }
 * i.original(): FakeMessage | undefined   // current @original (command: the reply; component: the clicked message)
 * i.edits: EditRecord[]          // every PATCH of @original in arrival order, rejected ones too:
 *                                // { at, status, ok, body, attachments (uploaded in that PATCH, with bytes), message? (state after), error? }
 * await i.waitForEdit(n = 1, { timeoutMs? }): EditRecord   // the n-th accepted edit
 * i.followUps(): FakeMessage[]; i.expire()  // same as fake.expireToken(i.token)
 *
 * // State and logs
 * fake.messages(channelId): FakeMessage[]   // creation order, ephemeral ones included (flags & 64)
 * fake.dmChannel(userId): FakeChannel | undefined  // the bot's DM with a user (POST /users/@me/channels)
 * fake.setAcceptsDms(userId, false)          // sending that user a DM then fails with 403 50007
 * fake.message(channelId, id): FakeMessage | undefined
 *     // FakeMessage is Discord's message object (snake_case) whose attachments also carry `data: Buffer`
 * fake.commands(guildId?): APIApplicationCommand[]   // registered via PUT/POST
 * fake.requests: RequestLogEntry[]          // every REST request: { at, method, path, query, route, status, durationMs, auth, body, files, fault?, error? }
 * fake.unknownRoutes(): RequestLogEntry[]   // requests answered 404 { message: 'Unknown route', code: 0 }
 * fake.gatewayLog: GatewayLogEntry[]        // ops in/out per connection, closes (code, by whom)
 * fake.droppedEvents: DroppedEvent[]        // dispatches nobody could receive (no live/resumable session)
 * fake.gatewayConnected: boolean            // a client session is connected right now
 * await fake.waitFor(() => T | undefined | null | false, { timeoutMs? = 5000, message? }): Promise<T>
 *
 * // Faults
 * fake.injectFault({ method?, path: RegExp | string, status?: 429 | 500 | 502 | 403 | ..., times? = 1,
 *                    retryAfterSec?, code?, message?, global?, scope?, delayMs? }): Fault
 *     // `path` is matched against the API path without /api/v10 and query, e.g.
 *     // /^\/webhooks\/\d+\/[^/]+\/messages\/@original$/. 429s carry Retry-After, X-RateLimit-* and
 *     // X-RateLimit-Scope (+ X-RateLimit-Global) and { message, retry_after, global }.
 * fake.clearFaults()
 * fake.setRateLimit({ method?, path?: RegExp, limit, windowSec })   // real per-bucket limiting (default 50/s)
 * fake.expireToken(token)                   // @original/follow-ups then answer 401 { code: 50027, message: 'Invalid Webhook Token' }
 * fake.disconnectGateway({ resumable: boolean, code? })
 *     // resumable: close 4000, events keep queueing and are replayed on RESUME, then RESUMED.
 *     // not resumable: session invalidated, close 4009; discord.js tries RESUME, gets
 *     // INVALID_SESSION (d: false) and re-IDENTIFYs. Events in between are dropped (see droppedEvents).
 * await fake.close()
 * ```
 *
 * Timing notes: interactions must be acknowledged within `interactionAckTimeoutMs` (3000 by default,
 * like Discord; later callbacks get 404 10062 Unknown interaction). HELLO's heartbeat_interval is
 * 5 s by default. discord.js throttles IDENTIFYs to one per 5 s per client, so a non-resumable
 * disconnect within 5 s of login costs up to ~6.5 s before READY.
 *
 * Discord behaviour reproduced because bots trip over it: logged/matched paths are decoded
 * (`@original`, not `%40original`); message bodies are checked against Discord's limits (50035 with
 * the nested `errors` shape, 50006 empty message, 413/40005 over `attachmentSizeLimit`); channel routes
 * check the bot's role permissions (50001/50013; no channel overwrites); without the MessageContent
 * intent the gateway blanks other users' message content; the first follow-up after a deferred reply
 * fills the "thinking" message; 5xx bodies are HTML, as from Discord's edge.
 * Destroy clients before `fake.close()`, or discord.js keeps trying to reconnect.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChannelType, GatewayDispatchEvents, GatewayIntentBits } from 'discord-api-types/v10';
import type {
  ApplicationFlags,
  InteractionType,
  APIApplicationCommand,
  APIApplicationCommandInteractionDataOption,
  APIApplicationCommandPermission,
  APIRole,
  APIUser,
  GatewayRequestGuildMembersData,
} from 'discord-api-types/v10';
import { Core } from './core.ts';
import type { CallbackRecord, EditRecord, InteractionRecord } from './core.ts';
import { FaultInjector, RateLimiter } from './faults.ts';
import type { Fault, FaultSpec, RateLimitRule } from './faults.ts';
import { Gateway } from './gateway.ts';
import type { DroppedEvent, GatewayLogEntry } from './gateway.ts';
import { DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS, parseEmoji } from './model.ts';
import type { FakeAttachment, FakeChannel, FakeGuild, FakeMember, FakeMessage } from './model.ts';
import { sniffContentType } from './multipart.ts';
import { buildRoutes } from './routes.ts';
import { RestServer } from './server.ts';
import type { RequestLogEntry } from './server.ts';
import { snowflake } from './snowflake.ts';
import { waitFor } from './wait.ts';
import type { WaitOptions } from './wait.ts';

export type { CallbackRecord, EditRecord, Fault, FaultSpec, FakeAttachment, FakeChannel, FakeGuild, FakeMember, FakeMessage };
export type { RequestLogEntry, GatewayLogEntry, DroppedEvent, WaitOptions };
/** Alias for readers who think of stored messages simply as "Message" (not discord.js' class). */
export type { FakeMessage as Message };

export interface FakeDiscordOptions {
  /** Also the bot user's id. Random snowflake by default. */
  applicationId?: string;
  botName?: string;
  /** HELLO heartbeat_interval (default 5000). */
  heartbeatIntervalMs?: number;
  /** Callback deadline after dispatch (default 3000, as on Discord; 0 disables). */
  interactionAckTimeoutMs?: number;
  /** Interaction webhook token lifetime (default 15 minutes). */
  tokenLifetimeMs?: number;
  /** Per-file upload limit (default 10 MiB, Discord's limit for unboosted guilds). */
  attachmentSizeLimit?: number;
  /** Privileged intents "enabled in the developer portal" (default: all three). */
  allowedPrivilegedIntents?: number;
  /** Default per-bucket limit (default 50 per 1 s); null sends no rate-limit headers at all. */
  rateLimit?: { limit: number; windowSec: number } | null;
}

export interface UserAction {
  userId: string;
  /** Defaults to the channel's guild. */
  guildId?: string;
  channelId: string;
}

/** A live view on one dispatched interaction and everything the bot answered to it. */
export class InteractionHandle {
  constructor(
    private readonly fake: FakeDiscord,
    private readonly core: Core,
    private readonly record: InteractionRecord,
  ) {}

  get id(): string {
    return this.record.id;
  }
  get token(): string {
    return this.record.token;
  }
  get type(): InteractionType {
    return this.record.type;
  }
  get dispatchedAt(): number {
    return this.record.dispatchedAt;
  }
  get responses(): readonly CallbackRecord[] {
    return this.record.responses;
  }
  get edits(): readonly EditRecord[] {
    return this.record.edits;
  }
  get acknowledged(): boolean {
    return this.record.acknowledged;
  }
  /** The raw INTERACTION_CREATE payload that was dispatched. */
  get payload(): unknown {
    return this.record.payload;
  }

  original(): FakeMessage | undefined {
    return this.core.original(this.record);
  }

  followUps(): FakeMessage[] {
    return this.record.followUpIds
      .map((id) => this.core.messageById(this.record.channelId, id))
      .filter((m): m is FakeMessage => m !== undefined);
  }

  async waitForResponse(options: WaitOptions = {}): Promise<CallbackRecord> {
    const ackTimeout = this.core.options.interactionAckTimeoutMs;
    return waitFor(
      () => {
        const accepted = this.record.responses.find((r) => r.ok);
        if (accepted) return accepted;
        if (!this.record.delivered) {
          throw new Error(`FakeDiscord: interaction ${this.id} was never delivered: no gateway session was connected or resumable (is the client logged in and ready?)`);
        }
        if (ackTimeout > 0 && Date.now() - this.record.dispatchedAt > ackTimeout + 250) {
          const attempts = this.record.responses.map((r) => `${r.status}@${r.at}ms`).join(', ') || 'none';
          throw new Error(`FakeDiscord: interaction ${this.id} was not acknowledged within ${ackTimeout} ms (callback attempts: ${attempts})`);
        }
        return undefined;
      },
      { timeoutMs: options.timeoutMs ?? (ackTimeout > 0 ? ackTimeout + 1000 : 5000), ...options, message: options.message ?? `a callback to interaction ${this.id}` },
      () => this.fake.describeRecentRequests(),
    );
  }

  /** Resolves with the n-th (1-based) accepted edit of @original. */
  async waitForEdit(n = 1, options: WaitOptions = {}): Promise<EditRecord> {
    return waitFor(() => this.record.edits.filter((e) => e.ok)[n - 1], { ...options, message: options.message ?? `edit #${n} of @original of interaction ${this.id}` }, () =>
      this.fake.describeRecentRequests(),
    );
  }

  expire(): void {
    this.record.expired = true;
  }
}

export class FakeDiscord {
  readonly restUrl: string;
  readonly gatewayUrl: string;
  readonly token: string;
  readonly applicationId: string;
  private readonly core: Core;
  private readonly rest: RestServer;
  private readonly gateway: Gateway;

  private constructor(
    private readonly server: Server,
    core: Core,
    rest: RestServer,
    gateway: Gateway,
    port: number,
    token: string,
  ) {
    this.core = core;
    this.rest = rest;
    this.gateway = gateway;
    this.token = token;
    this.applicationId = core.options.applicationId;
    this.restUrl = `http://127.0.0.1:${port}/api`;
    this.gatewayUrl = `ws://127.0.0.1:${port}`;
  }

  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const applicationId = options.applicationId ?? snowflake();
    const core = new Core({
      applicationId,
      botName: options.botName ?? 'imagine',
      interactionAckTimeoutMs: options.interactionAckTimeoutMs ?? 3000,
      tokenLifetimeMs: options.tokenLifetimeMs ?? 15 * 60_000,
      attachmentSizeLimit: options.attachmentSizeLimit ?? 10 * 1024 * 1024,
    });
    // Same shape as a real token (base64 user id . timestamp . hmac) so token parsing/censoring works.
    const token = [
      Buffer.from(applicationId).toString('base64url'),
      Buffer.from(String(Math.floor(Date.now() / 1000))).toString('base64url'),
      Buffer.from(crypto.getRandomValues(new Uint8Array(27))).toString('base64url'),
    ].join('.');
    let port = 0;
    const rateLimit = options.rateLimit === undefined ? { limit: 50, windowSec: 1 } : options.rateLimit;
    const rateLimiter = new RateLimiter(rateLimit ? [rateLimit] : []);
    const rest = new RestServer(core, buildRoutes(core, { gatewayUrl: () => `ws://127.0.0.1:${port}` }), new FaultInjector(), rateLimiter, () => token);
    const server = createServer((req, res) => {
      rest.handle(req, res).catch((error: unknown) => {
        console.error('[fake-discord] request failed', error);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    const gateway = new Gateway(server, {
      token: () => token,
      botUserId: () => core.bot.id,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 5000,
      allowedPrivilegedIntents:
        options.allowedPrivilegedIntents ??
        GatewayIntentBits.GuildMembers | GatewayIntentBits.GuildPresences | GatewayIntentBits.MessageContent,
      resumeUrl: () => `ws://127.0.0.1:${port}/resume`,
      ready: (sessionId, shard) => ({
        ready: {
          v: 10,
          user: core.bot,
          guilds: [...core.state.guilds.keys()].map((id) => ({ id, unavailable: true })),
          session_id: sessionId,
          // A distinct path, so tests can tell a resume (which must use this URL) from a fresh connect.
          resume_gateway_url: `ws://127.0.0.1:${port}/resume`,
          shard,
          application: { id: applicationId, flags: 0 as ApplicationFlags, flags_new: '0' },
        },
        guilds: [...core.state.guilds.values()].map((g) => core.state.guildCreatePayload(g)),
      }),
      requestGuildMembers: (data) => membersChunk(core, data),
    });
    core.gateway = gateway;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    core.baseUrl = `http://127.0.0.1:${port}`;
    return new FakeDiscord(server, core, rest, gateway, port, token);
  }

  get botUser(): APIUser {
    return this.core.bot;
  }

  // ---- world ---------------------------------------------------------------------------------

  addUser(options: { username: string; id?: string; globalName?: string | null; bot?: boolean }): APIUser {
    return this.core.state.addUser(options);
  }

  addGuild(options: { name: string; id?: string; ownerId?: string; botPermissions?: bigint; everyonePermissions?: bigint }): FakeGuild {
    const state = this.core.state;
    const id = options.id ?? snowflake();
    const ownerId = options.ownerId ?? state.addUser({ username: `${options.name.toLowerCase().replace(/\W+/g, '_')}_owner` }).id;
    const guild: FakeGuild = {
      id,
      name: options.name,
      ownerId,
      joinedAt: new Date().toISOString(),
      preferredLocale: 'en-US' as FakeGuild['preferredLocale'],
      roles: new Map(),
      channelIds: [],
      members: new Map(),
    };
    state.guilds.set(id, guild);
    state.createRole(guild, { id, name: '@everyone', permissions: options.everyonePermissions ?? DEFAULT_EVERYONE_PERMISSIONS });
    // Bots get a managed role named after them carrying the invite's permissions.
    const botRole = state.createRole(guild, {
      name: this.core.bot.username,
      permissions: options.botPermissions ?? DEFAULT_BOT_PERMISSIONS,
      managed: true,
      botId: this.core.bot.id,
    });
    const joinedAt = guild.joinedAt;
    guild.members.set(ownerId, { guildId: id, userId: ownerId, roles: [], nick: null, joinedAt });
    guild.members.set(this.core.bot.id, { guildId: id, userId: this.core.bot.id, roles: [botRole.id], nick: null, joinedAt });
    this.gateway.dispatch(GatewayDispatchEvents.GuildCreate, state.guildCreatePayload(guild), { worldState: true });
    return guild;
  }

  addChannel(guildId: string, options: { name: string; topic?: string | null; nsfw?: boolean; id?: string }): FakeChannel {
    const guild = this.core.state.guild(guildId);
    const channel: FakeChannel = {
      id: options.id ?? snowflake(),
      guildId,
      name: options.name,
      type: 0,
      position: guild.channelIds.length,
      topic: options.topic ?? null,
      nsfw: options.nsfw ?? false,
      lastMessageId: null,
    };
    this.core.state.channels.set(channel.id, channel);
    guild.channelIds.push(channel.id);
    this.gateway.dispatch(GatewayDispatchEvents.ChannelCreate, this.core.state.channelToApi(channel), { worldState: true });
    return channel;
  }

  /** A public thread started in `parentId` (a forum post is one too); the bot learns of it by THREAD_CREATE. */
  addThread(parentId: string, options: { name: string; id?: string }): FakeChannel {
    const parent = this.core.state.channel(parentId);
    const thread: FakeChannel = {
      id: options.id ?? snowflake(),
      guildId: parent.guildId,
      name: options.name,
      type: ChannelType.PublicThread,
      parentId,
      position: 0,
      topic: null,
      nsfw: parent.nsfw,
      lastMessageId: null,
    };
    this.core.state.channels.set(thread.id, thread);
    this.gateway.dispatch(GatewayDispatchEvents.ThreadCreate, { ...this.core.state.threadToApi(thread), newly_created: true }, { worldState: true });
    return thread;
  }

  addRole(guildId: string, options: { name: string; permissions: bigint }): APIRole {
    const role = this.core.state.createRole(this.core.state.guild(guildId), options);
    this.gateway.dispatch(GatewayDispatchEvents.GuildRoleCreate, { guild_id: guildId, role }, { worldState: true });
    return role;
  }

  addMember(guildId: string, userId: string, options: { permissions?: bigint; roles?: string[]; nick?: string | null } = {}): FakeMember {
    const guild = this.core.state.guild(guildId);
    const user = this.core.state.user(userId);
    const roles = [...(options.roles ?? [])];
    if (options.permissions !== undefined) roles.push(this.addRole(guildId, { name: `${user.username} permissions`, permissions: options.permissions }).id);
    const member: FakeMember = { guildId, userId, roles, nick: options.nick ?? null, joinedAt: new Date().toISOString() };
    guild.members.set(userId, member);
    this.gateway.dispatch(GatewayDispatchEvents.GuildMemberAdd, { ...this.core.state.memberToApi(member), guild_id: guildId }, { worldState: true });
    return member;
  }

  /** Sets the permissions of the bot's managed role (note @everyone's also apply: see setRolePermissions). */
  setBotPermissions(guildId: string, permissions: bigint): void {
    const role = [...this.core.state.guild(guildId).roles.values()].find((r) => r.tags?.bot_id === this.core.bot.id);
    if (!role) throw new Error(`FakeDiscord: no bot role in guild ${guildId}`);
    this.setRolePermissions(guildId, role.id, permissions);
  }

  /** @everyone's role id is the guild id. */
  setRolePermissions(guildId: string, roleId: string, permissions: bigint): void {
    const guild = this.core.state.guild(guildId);
    const role = guild.roles.get(roleId);
    if (!role) throw new Error(`FakeDiscord: no role ${roleId} in guild ${guildId}`);
    const updated = { ...role, permissions: permissions.toString() };
    guild.roles.set(role.id, updated);
    this.gateway.dispatch(GatewayDispatchEvents.GuildRoleUpdate, { guild_id: guildId, role: updated }, { worldState: true });
  }

  /**
   * Per-command permission overrides, as an admin sets them in Server Settings › Integrations: for the
   * command named `commandName` (as registered), or for every command of the app when it is omitted.
   * Replaces that target's overrides. Role 2 = user, 1 = role, 3 = channel; @everyone is the guild id,
   * "all channels" the guild id minus 1.
   */
  setCommandPermissions(guildId: string, permissions: APIApplicationCommandPermission[], commandName?: string): void {
    let target = this.applicationId;
    if (commandName !== undefined) {
      const registered = [...(this.core.state.guildCommands.get(guildId)?.values() ?? []), ...this.core.state.globalCommands.values()];
      const command = registered.find((c) => c.name === commandName);
      if (!command) throw new Error(`FakeDiscord: no registered command ${commandName}`);
      target = command.id;
    }
    const overrides = this.core.state.commandPermissions.get(guildId) ?? new Map<string, APIApplicationCommandPermission[]>();
    overrides.set(target, permissions);
    this.core.state.commandPermissions.set(guildId, overrides);
  }

  /** Stores a file as Discord's CDN would, for ATTACHMENT command options (`value` = the returned id). */
  uploadAttachment(options: { filename: string; data: Buffer; contentType?: string }): FakeAttachment {
    const id = snowflake();
    const url = `${this.core.baseUrl}/attachments/${id}/${id}/${encodeURIComponent(options.filename)}`;
    const attachment: FakeAttachment = {
      id,
      filename: options.filename,
      size: options.data.length,
      url,
      proxy_url: url,
      content_type: options.contentType ?? sniffContentType(options.data) ?? 'application/octet-stream',
      ephemeral: true,
      data: options.data,
    };
    this.core.state.attachments.set(id, attachment);
    return attachment;
  }

  // ---- users acting --------------------------------------------------------------------------

  private guildOf(action: UserAction): string {
    return action.guildId ?? this.core.state.channel(action.channelId).guildId;
  }

  async sendCommand(options: UserAction & { name: string; options?: APIApplicationCommandInteractionDataOption[] }): Promise<InteractionHandle> {
    const record = this.core.sendCommand({ ...options, guildId: this.guildOf(options) });
    return new InteractionHandle(this, this.core, record);
  }

  /** A slash command used in the bot's DM with `userId` (no guild, no member). */
  async sendDmCommand(options: { userId: string; name: string; options?: APIApplicationCommandInteractionDataOption[] }): Promise<InteractionHandle> {
    const record = this.core.sendDmCommand(options);
    return new InteractionHandle(this, this.core, record);
  }

  /** Asks for suggestions while the user types: mark the option being typed with `focused: true`. */
  async sendAutocomplete(options: UserAction & { name: string; options: APIApplicationCommandInteractionDataOption[] }): Promise<InteractionHandle> {
    const record = this.core.sendCommand({ ...options, guildId: this.guildOf(options), autocomplete: true });
    return new InteractionHandle(this, this.core, record);
  }

  async pressButton(options: UserAction & { messageId: string; customId: string; values?: string[] }): Promise<InteractionHandle> {
    const record = this.core.pressComponent({ ...options, guildId: this.guildOf(options) });
    return new InteractionHandle(this, this.core, record);
  }

  /** Submits a modal the bot opened from a component on `messageId`, with text input values by custom_id. */
  async submitModal(options: UserAction & { messageId: string; customId: string; fields: Record<string, string> }): Promise<InteractionHandle> {
    const record = this.core.submitModal({ ...options, guildId: this.guildOf(options) });
    return new InteractionHandle(this, this.core, record);
  }

  async addReaction(options: UserAction & { messageId: string; emoji: string }): Promise<void> {
    const message = this.requireMessage(options.channelId, options.messageId);
    this.core.state.member(this.guildOf(options), options.userId);
    this.core.addReaction(message, options.userId, parseEmoji(options.emoji));
  }

  async removeReaction(options: UserAction & { messageId: string; emoji: string }): Promise<void> {
    const message = this.requireMessage(options.channelId, options.messageId);
    this.core.removeReaction(message, options.userId, parseEmoji(options.emoji));
  }

  postMessage(options: { userId: string; channelId: string; content?: string; dispatch?: boolean }): FakeMessage {
    const channel = this.core.state.channel(options.channelId);
    this.core.state.member(channel.guildId, options.userId);
    return this.core.createMessage({
      channelId: channel.id,
      author: this.core.state.user(options.userId),
      body: { content: options.content ?? '' },
      files: [],
      dispatch: options.dispatch ?? true,
    });
  }

  private requireMessage(channelId: string, messageId: string): FakeMessage {
    const message = this.core.messageById(channelId, messageId);
    if (!message) throw new Error(`FakeDiscord: no message ${messageId} in channel ${channelId}`);
    return message;
  }

  // ---- state and logs ------------------------------------------------------------------------

  /** The bot's DM channel with a user, once the bot has opened it. */
  dmChannel(userId: string): FakeChannel | undefined {
    return this.core.state.dmChannels.get(userId);
  }

  /** Whether the user accepts DMs from the bot (when not, sending one fails with 50007). */
  setAcceptsDms(userId: string, accepts: boolean): void {
    if (accepts) this.core.state.dmsClosed.delete(userId);
    else this.core.state.dmsClosed.add(userId);
  }

  messages(channelId: string): FakeMessage[] {
    return [...this.core.state.channelMessages(channelId).values()];
  }

  message(channelId: string, id: string): FakeMessage | undefined {
    return this.core.messageById(channelId, id);
  }

  commands(guildId?: string): APIApplicationCommand[] {
    if (!guildId) return [...this.core.state.globalCommands.values()];
    return [...(this.core.state.guildCommands.get(guildId)?.values() ?? [])];
  }

  get requests(): readonly RequestLogEntry[] {
    return this.rest.requests;
  }

  /** CDN paths the bot downloaded (attachments), in order. */
  get attachmentDownloads(): readonly string[] {
    return this.rest.attachmentDownloads;
  }

  unknownRoutes(): RequestLogEntry[] {
    return this.rest.requests.filter((r) => r.route === null && r.fault === undefined);
  }

  get gatewayLog(): readonly GatewayLogEntry[] {
    return this.gateway.log;
  }

  get droppedEvents(): readonly DroppedEvent[] {
    return this.gateway.dropped;
  }

  /** True while at least one client session is connected and live. */
  get gatewayConnected(): boolean {
    return this.gateway.connected;
  }

  async waitFor<T>(predicate: () => T | undefined | null | false, options: WaitOptions = {}): Promise<T> {
    return waitFor(predicate, options, () => this.describeRecentRequests());
  }

  /** The last REST requests, for timeout messages. */
  describeRecentRequests(count = 8): string {
    const recent = this.rest.requests.slice(-count);
    if (recent.length === 0) return 'No REST requests were made.';
    return `Last REST requests:\n${recent.map((r) => `  ${r.method} ${r.path} -> ${r.status}${r.error ? ` (${r.error.code} ${r.error.message})` : ''}`).join('\n')}`;
  }

  // ---- faults --------------------------------------------------------------------------------

  injectFault(spec: FaultSpec): Fault {
    return this.rest.faults.add(spec);
  }

  clearFaults(): void {
    this.rest.faults.clear();
  }

  setRateLimit(rule: RateLimitRule): void {
    this.rest.rateLimiter.addRule(rule);
  }

  expireToken(token: string): void {
    const record = this.core.interactionsByToken.get(token);
    if (!record) throw new Error('FakeDiscord.expireToken: no interaction has that token');
    record.expired = true;
  }

  disconnectGateway(options: { resumable: boolean; code?: number }): void {
    this.gateway.disconnect(options);
  }

  async close(): Promise<void> {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function membersChunk(core: Core, data: GatewayRequestGuildMembersData): unknown[] {
  const guild = core.state.guilds.get(data.guild_id);
  if (!guild) return [];
  let members = [...guild.members.values()];
  const notFound: string[] = [];
  if ('user_ids' in data && data.user_ids) {
    const ids = Array.isArray(data.user_ids) ? data.user_ids : [data.user_ids];
    notFound.push(...ids.filter((id) => !guild.members.has(id)));
    members = members.filter((m) => ids.includes(m.userId));
  } else if ('query' in data && data.query) {
    const query = data.query.toLowerCase();
    members = members.filter((m) => core.state.user(m.userId).username.toLowerCase().startsWith(query));
  }
  const limit = (data as { limit?: number }).limit;
  if (limit) members = members.slice(0, limit);
  return [
    {
      guild_id: guild.id,
      members: members.map((m) => core.state.memberToApi(m)),
      chunk_index: 0,
      chunk_count: 1,
      ...(notFound.length ? { not_found: notFound } : {}),
      ...(data.nonce ? { nonce: data.nonce } : {}),
    },
  ];
}
