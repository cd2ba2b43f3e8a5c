import {
  ApplicationCommandType,
  ChannelType,
  ApplicationIntegrationType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  MessageType,
  PermissionFlagsBits,
} from 'discord-api-types/v10';
import type { APIApplicationCommand, InteractionContextType } from 'discord-api-types/v10';
import type { CallbackRecord, Core, EditRecord, InteractionRecord } from './core.ts';
import { FormErrors, apiError } from './errors.ts';
import type { ApiError } from './errors.ts';
import type { FakeAttachment, FakeChannel, FakeMessage } from './model.ts';
import { emojiKey, parseEmoji } from './model.ts';
import type { UploadedFile } from './multipart.ts';
import type { HandlerResult, Outcome, Route, RouteContext } from './server.ts';
import { compareSnowflakes, snowflake } from './snowflake.ts';
import { asMessageBody, validateCommand, validateCommands } from './validate.ts';

type CreateMessageOptions = Parameters<Core['createMessage']>[0];

export interface RouteConfig {
  gatewayUrl: () => string;
}

const noContent: HandlerResult = { status: 204 };
const ok = (body: unknown, result?: unknown): HandlerResult => ({ status: 200, body, result });

function channelFor(core: Core, channelId: string): FakeChannel {
  const channel = core.state.channels.get(channelId);
  if (!channel) throw apiError(404, 10003);
  return channel;
}

/** Bot permission checks Discord applies to channel routes (guild-level: the fake has no overwrites). */
function requirePermissions(core: Core, channel: FakeChannel, ...bits: bigint[]): void {
  // A DM has no permissions to check; the recipient's privacy settings are checked on send.
  if (channel.type === ChannelType.DM) return;
  const bot = core.bot.id;
  if (!core.state.hasPermission(channel.guildId, bot, PermissionFlagsBits.ViewChannel)) throw apiError(403, 50001);
  for (const bit of bits) if (!core.state.hasPermission(channel.guildId, bot, bit)) throw apiError(403, 50013);
}

/** Channel routes never see ephemeral messages: they only exist for the interaction's user. */
function channelMessage(core: Core, channelId: string, messageId: string): FakeMessage {
  const message = core.messageById(channelId, messageId);
  if (!message || (message.flags ?? 0) & MessageFlags.Ephemeral) throw apiError(404, 10008);
  return message;
}

// Rejected requests create no attachments, but tests still want to see what was uploaded.
function previewAttachments(files: UploadedFile[]): FakeAttachment[] {
  return files.map((file) => ({
    id: '',
    filename: file.filename,
    size: file.data.length,
    url: '',
    proxy_url: '',
    content_type: file.contentType,
    data: file.data,
  }));
}

function asRecord(json: unknown): Record<string, unknown> | undefined {
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
}

function newAttachments(message: FakeMessage | undefined, before: FakeMessage | undefined, files: UploadedFile[]): FakeAttachment[] {
  if (!message) return previewAttachments(files);
  const old = new Set(before?.attachments.map((a) => a.id) ?? []);
  return message.attachments.filter((a) => !old.has(a.id));
}

/** Discord's `limit` query: clamped to 1..max, `fallback` when absent. */
function limitParam(ctx: RouteContext, fallback: number, max = 100): number {
  return Math.min(max, Math.max(1, Number(ctx.query.get('limit') ?? fallback)));
}

// ---- application commands ---------------------------------------------------------------------

function commandStore(core: Core, guildId: string | undefined): Map<string, APIApplicationCommand> {
  if (!guildId) return core.state.globalCommands;
  if (!core.state.guilds.has(guildId)) throw apiError(403, 50001);
  let map = core.state.guildCommands.get(guildId);
  if (!map) core.state.guildCommands.set(guildId, (map = new Map()));
  return map;
}

function toCommand(core: Core, raw: Record<string, unknown>, guildId: string | undefined, existing: APIApplicationCommand | undefined): APIApplicationCommand {
  const type = (raw.type as ApplicationCommandType | undefined) ?? ApplicationCommandType.ChatInput;
  return {
    id: existing?.id ?? snowflake(),
    application_id: core.options.applicationId,
    version: snowflake(),
    type,
    name: raw.name as string,
    name_localizations: (raw.name_localizations as APIApplicationCommand['name_localizations']) ?? null,
    description: type === ApplicationCommandType.ChatInput ? ((raw.description as string | undefined) ?? '') : '',
    description_localizations: (raw.description_localizations as APIApplicationCommand['description_localizations']) ?? null,
    ...(raw.options ? { options: raw.options as APIApplicationCommand['options'] } : {}),
    default_member_permissions: (raw.default_member_permissions as string | null | undefined) ?? null,
    dm_permission: (raw.dm_permission as boolean | undefined) ?? true,
    nsfw: (raw.nsfw as boolean | undefined) ?? false,
    ...(guildId
      ? { guild_id: guildId }
      : {
          integration_types: (raw.integration_types as ApplicationIntegrationType[] | undefined) ?? [ApplicationIntegrationType.GuildInstall],
          contexts: (raw.contexts as InteractionContextType[] | null | undefined) ?? null,
        }),
  };
}

/** Bulk overwrite and create both treat a command with the same name and type as the same command. */
function sameCommand(command: APIApplicationCommand, raw: Record<string, unknown>): boolean {
  return command.name === raw.name && command.type === ((raw.type as number | undefined) ?? 1);
}

function commandById(store: Map<string, APIApplicationCommand>, id: string): APIApplicationCommand {
  const command = store.get(id);
  if (!command) throw apiError(404, 10063);
  return command;
}

function commandRoutes(core: Core): Route[] {
  // A foreign application id is refused before the body is even validated.
  const route = (method: string, pattern: string, handler: Route['handler']): Route => ({
    method,
    pattern,
    auth: true,
    handler: (ctx) => {
      if (ctx.params.appId !== core.options.applicationId) throw apiError(403, 50001);
      return handler(ctx);
    },
  });
  const storeFor = (ctx: RouteContext) => commandStore(core, ctx.params.guildId);
  return ['', '/guilds/:guildId'].flatMap((scope) => {
    const base = `/applications/:appId${scope}/commands`;
    const one = `${base}/:commandId`;
    return [
      route('GET', base, (ctx) => ok([...storeFor(ctx).values()])),
      // Before `one`: per-command permission overrides a server's admins set (guild scope only).
      ...(scope
        ? [
            route('GET', `${base}/permissions`, (ctx) => {
              const guildId = ctx.params.guildId!;
              const overrides = core.state.commandPermissions.get(guildId) ?? new Map();
              return ok([...overrides].map(([id, permissions]) => ({ id, application_id: core.options.applicationId, guild_id: guildId, permissions })));
            }),
          ]
        : []),
      // Bulk overwrite: commands keep their id when name+type match, others are deleted.
      route('PUT', base, (ctx) => {
        validateCommands(ctx.json);
        const store = storeFor(ctx);
        const previous = [...store.values()];
        const next = (ctx.json as Record<string, unknown>[]).map((raw) =>
          toCommand(core, raw, ctx.params.guildId, previous.find((c) => sameCommand(c, raw))),
        );
        store.clear();
        for (const command of next) store.set(command.id, command);
        return ok(next);
      }),
      // Upsert by name+type; 201 when created, 200 when it already existed.
      route('POST', base, (ctx) => {
        const raw = asRecord(ctx.json) ?? {};
        validateCommand(raw);
        const store = storeFor(ctx);
        const existing = [...store.values()].find((c) => sameCommand(c, raw));
        const command = toCommand(core, raw, ctx.params.guildId, existing);
        store.set(command.id, command);
        return { status: existing ? 200 : 201, body: command };
      }),
      route('GET', one, (ctx) => ok(commandById(storeFor(ctx), ctx.params.commandId!))),
      route('PATCH', one, (ctx) => {
        const store = storeFor(ctx);
        const command = commandById(store, ctx.params.commandId!);
        const merged = { ...command, ...(asRecord(ctx.json) ?? {}) };
        validateCommand(merged);
        const updated = toCommand(core, merged, ctx.params.guildId, command);
        store.set(updated.id, updated);
        return ok(updated);
      }),
      route('DELETE', one, (ctx) => {
        if (!storeFor(ctx).delete(ctx.params.commandId!)) throw apiError(404, 10063);
        return noContent;
      }),
    ];
  });
}

// ---- channels, messages, reactions ------------------------------------------------------------

type ChannelHandler = (ctx: RouteContext, channel: FakeChannel) => HandlerResult;
type MessageHandler = (ctx: RouteContext, message: FakeMessage, channel: FakeChannel) => HandlerResult;

function messageRoutes(core: Core): Route[] {
  const { AddReactions, AttachFiles, ManageMessages, ReadMessageHistory, SendMessages } = PermissionFlagsBits;
  // Discord's order: unknown channel, then missing permission, then unknown message, then the rest.
  const channelRoute = (method: string, path: string, perms: bigint[], handler: ChannelHandler): Route => ({
    method,
    pattern: `/channels/:channelId${path}`,
    auth: true,
    handler: (ctx) => {
      const channel = channelFor(core, ctx.params.channelId!);
      requirePermissions(core, channel, ...perms);
      return handler(ctx, channel);
    },
  });
  const messageRoute = (method: string, path: string, perms: bigint[], handler: MessageHandler): Route =>
    channelRoute(method, `/messages/:messageId${path}`, perms, (ctx, channel) =>
      handler(ctx, channelMessage(core, channel.id, ctx.params.messageId!), channel),
    );

  return [
    channelRoute('GET', '', [], (_ctx, channel) => ok(core.state.channelToApi(channel))),
    channelRoute('POST', '/typing', [SendMessages], () => noContent),
    channelRoute('GET', '/messages', [], (ctx, channel) => {
      if (!core.state.hasPermission(channel.guildId, core.bot.id, ReadMessageHistory)) return ok([]);
      const limit = limitParam(ctx, 50);
      const before = ctx.query.get('before');
      const after = ctx.query.get('after');
      // Newest first, like Discord; `after` pages forward from the oldest side.
      let list = [...core.state.channelMessages(channel.id).values()].filter((m) => !((m.flags ?? 0) & MessageFlags.Ephemeral));
      list.sort((a, b) => compareSnowflakes(b.id, a.id));
      if (before) list = list.filter((m) => compareSnowflakes(m.id, before) < 0);
      if (after) list = list.filter((m) => compareSnowflakes(m.id, after) > 0).slice(-limit);
      return ok(list.slice(0, limit).map((m) => core.state.messageToApi(m)));
    }),
    {
      // Not a channelRoute: the permissions needed depend on the body, and a malformed body is
      // answered before any missing permission.
      method: 'POST',
      pattern: '/channels/:channelId/messages',
      auth: true,
      handler: (ctx) => {
        const channel = channelFor(core, ctx.params.channelId!);
        const body = asMessageBody(ctx.json);
        requirePermissions(
          core,
          channel,
          SendMessages,
          ...(ctx.files.length ? [AttachFiles] : []),
          ...(body.message_reference ? [ReadMessageHistory] : []),
        );
        const dm = channel.type === ChannelType.DM;
        if (dm && core.state.dmsClosed.has(channel.recipientId ?? '')) throw apiError(403, 50007);
        // The bot has no DIRECT_MESSAGES intent here: its own DMs do not come back over the gateway.
        const message = core.createMessage({ channelId: channel.id, author: core.bot, body, files: ctx.files, ...(dm ? { dispatch: false } : {}) });
        return ok(core.state.messageToApi(message), message);
      },
    },
    messageRoute('GET', '', [ReadMessageHistory], (_ctx, message) => ok(core.state.messageToApi(message))),
    messageRoute('PATCH', '', [], (ctx, message) => {
      if (message.author.id !== core.bot.id || message.webhook_id) throw apiError(403, 50005);
      const updated = core.editMessage(message, asMessageBody(ctx.json), ctx.files);
      return ok(core.state.messageToApi(updated), updated);
    }),
    messageRoute('DELETE', '', [], (_ctx, message, channel) => {
      if (message.author.id !== core.bot.id) requirePermissions(core, channel, ManageMessages);
      core.deleteMessage(message);
      return noContent;
    }),
    messageRoute('PUT', '/reactions/:emoji/@me', [ReadMessageHistory], (ctx, message, channel) => {
      const emoji = parseEmoji(ctx.params.emoji!);
      if (!emoji.name) throw apiError(400, 10014);
      // Adding a new emoji needs ADD_REACTIONS; piling onto an existing one does not.
      if (!core.state.reactions.get(message.id)?.has(emojiKey(emoji))) requirePermissions(core, channel, AddReactions);
      core.addReaction(message, core.bot.id, emoji);
      return noContent;
    }),
    messageRoute('DELETE', '/reactions/:emoji/@me', [], (ctx, message) => {
      core.removeReaction(message, core.bot.id, parseEmoji(ctx.params.emoji!));
      return noContent;
    }),
    messageRoute('DELETE', '/reactions/:emoji/:userId', [ManageMessages], (ctx, message) => {
      core.removeReaction(message, ctx.params.userId!, parseEmoji(ctx.params.emoji!));
      return noContent;
    }),
    messageRoute('GET', '/reactions/:emoji', [ReadMessageHistory], (ctx, message) => {
      const entry = core.state.reactions.get(message.id)?.get(emojiKey(parseEmoji(ctx.params.emoji!)));
      const limit = limitParam(ctx, 25);
      const after = ctx.query.get('after');
      const ids = [...(entry?.userIds ?? [])].sort(compareSnowflakes).filter((id) => !after || compareSnowflakes(id, after) > 0);
      return ok(ids.slice(0, limit).map((id) => core.state.user(id)));
    }),
    messageRoute('DELETE', '/reactions/:emoji', [ManageMessages], (ctx, message) => {
      core.removeAllReactions(message, parseEmoji(ctx.params.emoji!));
      return noContent;
    }),
    messageRoute('DELETE', '/reactions', [ManageMessages], (_ctx, message) => {
      core.removeAllReactions(message);
      return noContent;
    }),
  ];
}

// ---- interactions and their webhooks ----------------------------------------------------------

function interactionRoutes(core: Core): Route[] {
  const callbackRecorder = (ctx: RouteContext, outcome: Outcome): void => {
    const record = core.interactions.get(ctx.params.interactionId!);
    if (!record || record.token !== ctx.params.token) return;
    const json = asRecord(ctx.json);
    const data = asRecord(json?.data);
    const result = outcome.result as { before?: FakeMessage; after: FakeMessage } | undefined;
    record.responses.push({
      type: Number(json?.type),
      data,
      attachments: outcome.ok && result ? newAttachments(result.after, result.before, ctx.files) : previewAttachments(ctx.files),
      at: ctx.arrivedAt - record.dispatchedAt,
      status: outcome.status,
      ok: outcome.ok,
      ephemeral: (Number(data?.flags ?? 0) & MessageFlags.Ephemeral) !== 0,
      ...(outcome.error ? { error: outcome.error } : {}),
    } satisfies CallbackRecord);
  };

  // Only edits of the original response count, whether addressed as `@original` or by id.
  const originalRecorder = (ctx: RouteContext, outcome: Outcome): void => {
    const record = core.interactionsByToken.get(ctx.params.token!);
    if (!record) return;
    if (ctx.params.messageId !== '@original' && ctx.params.messageId !== record.originalMessageId) return;
    const result = outcome.result as { before: FakeMessage; after: FakeMessage } | undefined;
    const entry: EditRecord = {
      at: ctx.arrivedAt - record.dispatchedAt,
      status: outcome.status,
      ok: outcome.ok,
      body: asRecord(ctx.json),
      attachments: newAttachments(result?.after, result?.before, ctx.files),
      ...(result ? { message: result.after } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    };
    record.edits.push(entry);
  };

  const tokenRecord = (ctx: RouteContext): InteractionRecord => core.interactionForToken(ctx.params.appId!, ctx.params.token!);

  // A token reaches only its own interaction's original response and follow-ups.
  const webhookMessage = (ctx: RouteContext): FakeMessage => {
    const record = tokenRecord(ctx);
    const messageId = ctx.params.messageId!;
    const id = messageId === '@original' ? record.originalMessageId : messageId;
    if (!id || (id !== record.originalMessageId && !record.followUpIds.includes(id))) throw apiError(404, 10008);
    const message = core.messageById(record.channelId, id);
    if (!message) throw apiError(404, 10008);
    return message;
  };

  // Responses and follow-ups are posted by the application's webhook into the interaction's channel.
  const postAsApp = (record: InteractionRecord, options: Omit<CreateMessageOptions, 'channelId' | 'author' | 'type' | 'webhookId'>): FakeMessage =>
    core.createMessage({
      channelId: record.channelId,
      author: core.bot,
      type: record.type === InteractionType.ApplicationCommand ? MessageType.ChatInputCommand : MessageType.Default,
      webhookId: core.options.applicationId,
      ...options,
    });

  const webhookMessagePattern = '/webhooks/:appId/:token/messages/:messageId';
  return [
    {
      method: 'POST',
      pattern: '/interactions/:interactionId/:token/callback',
      auth: false,
      record: callbackRecorder,
      handler: (ctx) => {
        const record = core.interactions.get(ctx.params.interactionId!);
        if (!record || record.token !== ctx.params.token) throw apiError(404, 10062);
        if (record.acknowledged) throw apiError(400, 40060);
        const late = core.options.interactionAckTimeoutMs > 0 && ctx.arrivedAt - record.dispatchedAt > core.options.interactionAckTimeoutMs;
        if (late || core.tokenExpired(record)) throw apiError(404, 10062);
        const json = asRecord(ctx.json) ?? {};
        const type = Number(json.type);
        const data = asMessageBody(json.data);
        const ephemeral = ((data.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
        // A modal opened from a message component may update that message too.
        const isComponent = record.type === InteractionType.MessageComponent || (record.type === InteractionType.ModalSubmit && record.originalMessageId !== undefined);
        // Autocomplete requests take suggestions and nothing else; nothing else takes suggestions.
        const isAutocomplete = record.type === InteractionType.ApplicationCommandAutocomplete;
        if (isAutocomplete !== (type === InteractionResponseType.ApplicationCommandAutocompleteResult)) throw invalidResponseType();
        let message: FakeMessage | undefined;
        let before: FakeMessage | undefined;
        switch (type) {
          case InteractionResponseType.ChannelMessageWithSource:
            message = postAsApp(record, { body: data, files: ctx.files, interaction: record, ephemeral });
            record.originalMessageId = message.id;
            break;
          case InteractionResponseType.DeferredChannelMessageWithSource:
            // The "Bot is thinking..." placeholder is a real message (LOADING flag) that edits fill in.
            message = postAsApp(record, { body: {}, files: [], interaction: record, ephemeral, loading: true });
            record.originalMessageId = message.id;
            break;
          case InteractionResponseType.DeferredMessageUpdate:
            if (!isComponent) throw invalidResponseType();
            break;
          case InteractionResponseType.UpdateMessage: {
            if (!isComponent) throw invalidResponseType();
            before = core.messageById(record.channelId, record.originalMessageId!);
            if (!before) throw apiError(404, 10008);
            message = core.editMessage(before, data, ctx.files);
            break;
          }
          case InteractionResponseType.Modal:
          case InteractionResponseType.LaunchActivity:
          case InteractionResponseType.ApplicationCommandAutocompleteResult:
            break;
          default:
            throw invalidResponseType();
        }
        record.acknowledged = true;
        record.ackType = type;
        const result = message ? { before, after: message } : undefined;
        if (ctx.query.get('with_response') !== 'true') return { status: 204, result };
        return ok(
          {
            interaction: {
              id: record.id,
              type: record.type,
              ...(message ? { response_message_id: message.id } : {}),
              response_message_loading: type === InteractionResponseType.DeferredChannelMessageWithSource,
              response_message_ephemeral: ephemeral,
            },
            resource: { type, ...(message ? { message: core.state.messageToApi(message) } : {}) },
          },
          result,
        );
      },
    },
    {
      method: 'POST',
      pattern: '/webhooks/:appId/:token',
      auth: false,
      handler: (ctx) => {
        const record = tokenRecord(ctx);
        if (!record.acknowledged) throw apiError(404, 10015);
        const body = asMessageBody(ctx.json);
        const original = core.original(record);
        // The first follow-up after a deferred reply fills the "thinking" placeholder instead of
        // posting a new message (and keeps its ephemerality).
        if (original && (original.flags ?? 0) & MessageFlags.Loading) {
          const filled = core.editMessage(original, body, ctx.files);
          return ok(core.state.messageToApi(filled), filled);
        }
        const message = postAsApp(record, {
          body,
          files: ctx.files,
          followUpOf: record,
          ephemeral: ((body.flags ?? 0) & MessageFlags.Ephemeral) !== 0,
        });
        record.followUpIds.push(message.id);
        return ok(core.state.messageToApi(message), message);
      },
    },
    { method: 'GET', pattern: webhookMessagePattern, auth: false, handler: (ctx) => ok(core.state.messageToApi(webhookMessage(ctx))) },
    {
      method: 'PATCH',
      pattern: webhookMessagePattern,
      auth: false,
      record: originalRecorder,
      handler: (ctx) => {
        const before = webhookMessage(ctx);
        const after = core.editMessage(before, asMessageBody(ctx.json), ctx.files);
        return ok(core.state.messageToApi(after), { before, after });
      },
    },
    {
      method: 'DELETE',
      pattern: webhookMessagePattern,
      auth: false,
      handler: (ctx) => {
        core.deleteMessage(webhookMessage(ctx));
        return noContent;
      },
    },
  ];
}

function invalidResponseType(): ApiError {
  const errors = new FormErrors();
  errors.add('type', 'INTERACTION_RESPONSE_TYPE_INVALID', 'Interaction response type is invalid for this interaction');
  return errors.toError();
}

// ---- gateway, users, guilds --------------------------------------------------------------------

function miscRoutes(core: Core, config: RouteConfig): Route[] {
  const guildFor = (id: string) => {
    const guild = core.state.guilds.get(id);
    if (!guild) throw apiError(404, 10004);
    return guild;
  };
  return [
    { method: 'GET', pattern: '/gateway', auth: false, handler: () => ok({ url: config.gatewayUrl() }) },
    {
      method: 'GET',
      pattern: '/gateway/bot',
      auth: true,
      handler: () =>
        ok({
          url: config.gatewayUrl(),
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
        }),
    },
    { method: 'GET', pattern: '/users/@me', auth: true, handler: () => ok(core.bot) },
    {
      method: 'POST',
      pattern: '/users/@me/channels',
      auth: true,
      handler: (ctx) => {
        const recipient = (ctx.json as { recipient_id?: unknown } | undefined)?.recipient_id;
        if (typeof recipient !== 'string' || !core.state.users.has(recipient)) throw apiError(400, 50035);
        return ok(core.state.dmChannelToApi(core.state.openDm(recipient)));
      },
    },
    {
      method: 'GET',
      pattern: '/users/:userId',
      auth: true,
      handler: (ctx) => {
        const user = core.state.users.get(ctx.params.userId!);
        if (!user) throw apiError(404, 10013);
        return ok(user);
      },
    },
    {
      method: 'GET',
      pattern: '/applications/@me',
      auth: true,
      handler: () =>
        ok({
          id: core.options.applicationId,
          name: core.bot.username,
          icon: null,
          description: '',
          bot_public: true,
          bot_require_code_grant: false,
          bot: core.bot,
          verify_key: '0'.repeat(64),
          flags: 0,
          owner: { id: snowflake(), username: 'owner', discriminator: '0', global_name: null, avatar: null },
          team: null,
          summary: '',
          approximate_guild_count: core.state.guilds.size,
          integration_types_config: { '0': {} },
        }),
    },
    { method: 'GET', pattern: '/guilds/:guildId', auth: true, handler: (ctx) => ok(core.state.guildToApi(guildFor(ctx.params.guildId!))) },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/channels',
      auth: true,
      handler: (ctx) => ok(guildFor(ctx.params.guildId!).channelIds.map((id) => core.state.channelToApi(core.state.channel(id)))),
    },
    { method: 'GET', pattern: '/guilds/:guildId/roles', auth: true, handler: (ctx) => ok([...guildFor(ctx.params.guildId!).roles.values()]) },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/members',
      auth: true,
      handler: (ctx) => {
        const limit = limitParam(ctx, 1, 1000);
        const after = ctx.query.get('after') ?? '0';
        const members = [...guildFor(ctx.params.guildId!).members.values()]
          .filter((m) => compareSnowflakes(m.userId, after) > 0)
          .sort((a, b) => compareSnowflakes(a.userId, b.userId));
        return ok(members.slice(0, limit).map((m) => core.state.memberToApi(m)));
      },
    },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/members/:userId',
      auth: true,
      handler: (ctx) => {
        const member = guildFor(ctx.params.guildId!).members.get(ctx.params.userId!);
        if (!member) throw apiError(404, 10007);
        return ok(core.state.memberToApi(member));
      },
    },
  ];
}

export function buildRoutes(core: Core, config: RouteConfig): Route[] {
  return [...miscRoutes(core, config), ...commandRoutes(core), ...messageRoutes(core), ...interactionRoutes(core)];
}
