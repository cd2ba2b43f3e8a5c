import { once } from 'node:events';
import { inflateSync } from 'node:zlib';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  HTTPError,
  MessageFlags,
  Partials,
  PermissionFlagsBits,
} from 'discord.js';
import type { ButtonInteraction, ChatInputCommandInteraction, Interaction, Message, MessageReaction, TextChannel, User } from 'discord.js';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FakeDiscord } from './fake-discord.ts';
import type { FakeChannel, FakeGuild } from './fake-discord.ts';

const ORIGINAL = /^\/webhooks\/\d+\/[^/]+\/messages\/@original$/;

let fake: FakeDiscord;
let guild: FakeGuild;
let channel: FakeChannel;
let aliceId: string;
const clients: Client[] = [];

async function login(extra: { waitGuildTimeout?: number } = {}): Promise<Client<true>> {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.GuildMessageReactions],
    partials: [Partials.Message, Partials.Channel, Partials.Reaction, Partials.User],
    rest: { api: fake.restUrl },
    ...extra,
  });
  clients.push(client);
  const ready = once(client, Events.ClientReady);
  await client.login(fake.token);
  await ready;
  return client as Client<true>;
}

/** Runs `handler` for every interaction and keeps its failures for the test to assert on. */
function onInteraction(client: Client, handler: (interaction: Interaction) => Promise<unknown>): { errors: unknown[] } {
  const state = { errors: [] as unknown[] };
  client.on(Events.InteractionCreate, (interaction) => {
    handler(interaction).catch((error: unknown) => state.errors.push(error));
  });
  return state;
}

function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#ff0000' } }).png().toBuffer();
}

function textChannel(client: Client): TextChannel {
  return client.channels.cache.get(channel.id) as TextChannel;
}

beforeEach(async () => {
  fake = await FakeDiscord.start();
  guild = fake.addGuild({ name: 'Test Guild' });
  channel = fake.addChannel(guild.id, { name: 'general' });
  aliceId = fake.addUser({ username: 'alice' }).id;
  fake.addMember(guild.id, aliceId, { permissions: PermissionFlagsBits.ManageChannels });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.destroy()));
  await fake.close();
});

describe('FakeDiscord with a real discord.js Client', () => {
  it('logs in and caches the guild, channel, roles and members from READY + GUILD_CREATE', async () => {
    const started = Date.now();
    const client = await login();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(client.user.id).toBe(fake.botUser.id);
    expect(client.application.id).toBe(fake.applicationId);
    const cached = client.guilds.cache.get(guild.id)!;
    expect(cached.name).toBe('Test Guild');
    expect(cached.available).toBe(true);
    expect(cached.channels.cache.get(channel.id)?.name).toBe('general');
    expect(textChannel(client).isTextBased()).toBe(true);
    expect(cached.members.me?.permissions.has(PermissionFlagsBits.AttachFiles)).toBe(true);
    expect(cached.members.cache.get(aliceId)?.permissions.has(PermissionFlagsBits.ManageChannels)).toBe(true);
    expect(cached.roles.everyone.permissions.has(PermissionFlagsBits.SendMessages)).toBe(true);
    expect(fake.gatewayLog.filter((e) => e.dir === 'in' && e.op === 2)).toHaveLength(1);
  });

  it('delivers a slash command with typed options; deferReply + editReply with a PNG is recorded with bytes', async () => {
    const client = await login();
    const image = await png(8, 6);
    const seen: { prompt?: string; steps?: number | null; sub?: string; force?: boolean | null; memberCanManage?: boolean } = {};
    const handler = onInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      if (interaction.commandName === 'admin') {
        seen.sub = interaction.options.getSubcommand();
        seen.force = interaction.options.getBoolean('force');
        await interaction.reply('ok');
        return;
      }
      seen.prompt = interaction.options.getString('prompt', true);
      seen.steps = interaction.options.getInteger('steps');
      seen.memberCanManage = interaction.memberPermissions?.has(PermissionFlagsBits.ManageChannels);
      await interaction.deferReply();
      await interaction.editReply({
        content: 'done',
        files: [new AttachmentBuilder(image, { name: 'a cat.png' })],
        embeds: [{ title: 'a cat', image: { url: 'attachment://a_cat.png' } }],
      });
    });

    const i = await fake.sendCommand({
      userId: aliceId,
      guildId: guild.id,
      channelId: channel.id,
      name: 'imagine',
      options: [
        { name: 'prompt', type: 3, value: 'a cat' },
        { name: 'steps', type: 4, value: 4 },
      ],
    });
    const response = await i.waitForResponse();
    expect(response.type).toBe(5);
    expect(response.at).toBeLessThan(3000);
    const edit = await i.waitForEdit(1);
    expect(handler.errors).toEqual([]);
    expect(seen).toMatchObject({ prompt: 'a cat', steps: 4, memberCanManage: true });

    expect(edit.status).toBe(200);
    expect(edit.attachments).toHaveLength(1);
    const uploaded = edit.attachments[0]!;
    expect(uploaded.filename).toBe('a_cat.png');
    expect(uploaded.content_type).toBe('image/png');
    expect(uploaded.data.equals(image)).toBe(true);
    expect(await sharp(uploaded.data).metadata()).toMatchObject({ width: 8, height: 6, format: 'png' });

    const original = i.original()!;
    expect(original.content).toBe('done');
    expect((original.flags ?? 0) & MessageFlags.Loading).toBe(0);
    expect(original.author.id).toBe(fake.botUser.id);
    expect(original.interaction_metadata?.id).toBe(i.id);
    expect(original.attachments[0]).toMatchObject({ width: 8, height: 6, size: image.length });
    expect(original.embeds[0]?.image?.url).toBe(uploaded.url);
    expect(fake.messages(channel.id).map((m) => m.id)).toContain(original.id);
    const served = await fetch(original.attachments[0]!.url);
    expect(Buffer.from(await served.arrayBuffer()).equals(image)).toBe(true);

    const admin = await fake.sendCommand({
      userId: aliceId,
      channelId: channel.id,
      name: 'admin',
      options: [{ name: 'reload', type: 1, options: [{ name: 'force', type: 5, value: true }] }],
    });
    expect((await admin.waitForResponse()).type).toBe(4);
    expect(seen).toMatchObject({ sub: 'reload', force: true });
  });

  it('records ephemeral replies and keeps them off the gateway', async () => {
    const client = await login();
    const created: Message[] = [];
    client.on(Events.MessageCreate, (m) => created.push(m));
    onInteraction(client, async (interaction) => {
      if (interaction.isChatInputCommand()) await interaction.reply({ content: 'only you', flags: MessageFlags.Ephemeral });
    });
    const i = await fake.sendCommand({ userId: aliceId, guildId: guild.id, channelId: channel.id, name: 'imagine' });
    const response = await i.waitForResponse();
    expect(response).toMatchObject({ type: 4, ephemeral: true, status: 204 });
    expect((i.original()!.flags ?? 0) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    // A normal message sent afterwards arrives; the ephemeral one never did.
    await textChannel(client).send('public');
    await fake.waitFor(() => created.find((m) => m.content === 'public'));
    expect(created.map((m) => m.content)).toEqual(['public']);
  });

  it('rejects callbacks after the acknowledgement window with 10062 Unknown interaction', async () => {
    await fake.close();
    fake = await FakeDiscord.start({ interactionAckTimeoutMs: 150 });
    guild = fake.addGuild({ name: 'Slow' });
    channel = fake.addChannel(guild.id, { name: 'general' });
    fake.addMember(guild.id, (aliceId = fake.addUser({ username: 'alice' }).id));
    const client = await login();
    const handler = onInteraction(client, async (interaction) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (interaction.isChatInputCommand()) await interaction.deferReply();
    });
    const i = await fake.sendCommand({ userId: aliceId, channelId: channel.id, name: 'imagine' });
    await expect(i.waitForResponse()).rejects.toThrow(/not acknowledged within 150 ms/);
    await fake.waitFor(() => handler.errors.length > 0);
    expect(handler.errors[0]).toBeInstanceOf(DiscordAPIError);
    expect((handler.errors[0] as DiscordAPIError).code).toBe(10062);
  });

  it('delivers a button press as ButtonInteraction and applies update()', async () => {
    const client = await login();
    const sent = await textChannel(client).send({
      content: 'pick',
      components: [
        new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId('reroll').setLabel('Reroll').setStyle(ButtonStyle.Primary),
        ),
      ],
    });
    let pressed: ButtonInteraction | undefined;
    const handler = onInteraction(client, async (interaction) => {
      if (!interaction.isButton()) return;
      pressed = interaction;
      await interaction.update({ content: 'rerolled', components: [] });
    });
    const i = await fake.pressButton({ userId: aliceId, guildId: guild.id, channelId: channel.id, messageId: sent.id, customId: 'reroll' });
    expect((await i.waitForResponse()).type).toBe(7);
    expect(handler.errors).toEqual([]);
    expect(pressed?.customId).toBe('reroll');
    expect(pressed?.message.id).toBe(sent.id);
    expect(pressed?.user.id).toBe(aliceId);
    const after = fake.message(channel.id, sent.id)!;
    expect(after.content).toBe('rerolled');
    expect(after.components).toEqual([]);
    expect(i.original()?.id).toBe(sent.id);
    // The button is gone now, so a user can no longer press it.
    await expect(fake.pressButton({ userId: aliceId, channelId: channel.id, messageId: sent.id, customId: 'reroll' })).rejects.toThrow(/no component/);
  });

  it('dispatches reactions, including on a message the client never cached (partials)', async () => {
    const client = await login();
    const reactions: { reaction: MessageReaction; user: User; partial: boolean }[] = [];
    client.on(Events.MessageReactionAdd, (reaction, user) => {
      reactions.push({ reaction: reaction as MessageReaction, user: user as User, partial: reaction.message.partial });
    });
    const sent = await textChannel(client).send('react to me');
    await fake.addReaction({ userId: aliceId, guildId: guild.id, channelId: channel.id, messageId: sent.id, emoji: '🔁' });
    await fake.waitFor(() => reactions.length === 1);
    expect(reactions[0]!.reaction.emoji.name).toBe('🔁');
    expect(reactions[0]!.user.id).toBe(aliceId);
    expect(reactions[0]!.partial).toBe(false);
    expect(fake.message(channel.id, sent.id)?.reactions?.[0]).toMatchObject({ count: 1, me: false, emoji: { name: '🔁' } });

    const unseen = fake.postMessage({ userId: aliceId, channelId: channel.id, content: 'old message', dispatch: false });
    await fake.addReaction({ userId: aliceId, channelId: channel.id, messageId: unseen.id, emoji: '🔁' });
    await fake.waitFor(() => reactions.length === 2);
    expect(reactions[1]!.partial).toBe(true);
    const fetched = await reactions[1]!.reaction.message.fetch();
    expect(fetched.content).toBe('old message');
    expect(fetched.author.id).toBe(aliceId);

    // The bot's own reaction goes through REST and shows up as `me`.
    await fetched.react('✅');
    expect(fake.message(channel.id, unseen.id)?.reactions?.find((r) => r.emoji.name === '✅')?.me).toBe(true);
    const users = await fetched.reactions.cache.get('🔁')!.users.fetch();
    expect([...users.keys()]).toEqual([aliceId]);
  });

  it('stores channel.send replies with message_reference', async () => {
    const client = await login();
    const created: Message[] = [];
    client.on(Events.MessageCreate, (m) => created.push(m));
    const question = fake.postMessage({ userId: aliceId, channelId: channel.id, content: 'draw a dog' });
    const incoming = await fake.waitFor(() => created.find((m) => m.id === question.id));
    // Without the MessageContent intent the gateway blanks other users' content, as Discord does.
    expect(incoming.content).toBe('');
    const reply = await incoming.reply('here you go');
    const stored = fake.message(channel.id, reply.id)!;
    expect(stored.type).toBe(19);
    expect(stored.message_reference).toMatchObject({ message_id: question.id, channel_id: channel.id, guild_id: guild.id });
    expect(stored.referenced_message?.id).toBe(question.id);
    expect(stored.mentions.map((u) => u.id)).toEqual([aliceId]);
    expect(reply.reference?.messageId).toBe(question.id);

    // A reply to an unknown message fails like Discord's 50035.
    const error = await textChannel(client)
      .send({ content: 'x', reply: { messageReference: '1234567890123456789' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect((error as DiscordAPIError).code).toBe(50035);
  });

  it('registers global and guild commands via PUT and uses their ids in interactions', async () => {
    const client = await login();
    const definition = {
      name: 'imagine',
      description: 'Generate an image',
      options: [{ name: 'prompt', description: 'What to draw', type: 3, required: true }],
    };
    const global = await client.application.commands.set([definition]);
    expect(fake.commands()).toHaveLength(1);
    const id = fake.commands()[0]!.id;
    expect(global.first()?.id).toBe(id);
    // Re-registering keeps the id, as Discord does for an unchanged name + type.
    await client.application.commands.set([definition]);
    expect(fake.commands()[0]!.id).toBe(id);
    await client.guilds.cache.get(guild.id)!.commands.set([{ name: 'admin', description: 'Admin tools' }]);
    expect(fake.commands(guild.id).map((c) => c.name)).toEqual(['admin']);
    expect((await client.application.commands.fetch()).size).toBe(1);

    let received: ChatInputCommandInteraction | undefined;
    onInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      received = interaction;
      await interaction.reply('hi');
    });
    const i = await fake.sendCommand({ userId: aliceId, channelId: channel.id, name: 'imagine', options: [{ name: 'prompt', type: 3, value: 'x' }] });
    await i.waitForResponse();
    expect(received?.commandId).toBe(id);

    const bad = await client.application.commands.set([{ name: 'Bad Name', description: '' }]).catch((e: unknown) => e);
    expect((bad as DiscordAPIError).code).toBe(50035);
    expect(fake.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([200, 200, 200, 400]);
  });

  it('makes discord.js wait out a 429 on an edit for Retry-After, then lands the edit', async () => {
    const client = await login();
    fake.injectFault({ method: 'PATCH', path: ORIGINAL, status: 429, retryAfterSec: 1 });
    const handler = onInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply();
      await interaction.editReply('after the rate limit');
    });
    const i = await fake.sendCommand({ userId: aliceId, channelId: channel.id, name: 'imagine' });
    const edit = await i.waitForEdit(1, { timeoutMs: 5000 });
    expect(handler.errors).toEqual([]);
    expect(i.edits.map((e) => e.status)).toEqual([429, 200]);
    expect(edit.at - i.edits[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(i.original()?.content).toBe('after the rate limit');
    const patches = fake.requests.filter((r) => r.method === 'PATCH');
    expect(patches[0]).toMatchObject({ status: 429, error: { code: 0, message: 'You are being rate limited.' } });

    // A global 429 blocks every route until it passes.
    fake.injectFault({ method: 'POST', path: /^\/channels\/\d+\/messages$/, status: 429, retryAfterSec: 0.5, global: true });
    const started = Date.now();
    await textChannel(client).send('after the global limit');
    const posts = fake.requests.filter((r) => r.method === 'POST' && r.route === '/channels/:channelId/messages');
    expect(posts.map((r) => r.status)).toEqual([429, 200]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(500);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('retries a 5xx edit immediately (3 retries in @discordjs/rest) and surfaces HTTPError when all fail', async () => {
    const client = await login();
    const results: unknown[] = [];
    onInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply();
      results.push(await interaction.editReply('x').catch((e: unknown) => e));
    });

    fake.injectFault({ method: 'PATCH', path: ORIGINAL, status: 500, times: 1 });
    const once500 = await fake.sendCommand({ userId: aliceId, channelId: channel.id, name: 'imagine' });
    await once500.waitForEdit(1);
    expect(once500.edits.map((e) => e.status)).toEqual([500, 200]);

    const fault = fake.injectFault({ method: 'PATCH', path: ORIGINAL, status: 502, times: 10 });
    const always = await fake.sendCommand({ userId: aliceId, channelId: channel.id, name: 'imagine' });
    await fake.waitFor(() => results.length === 2);
    expect(always.edits.map((e) => e.status)).toEqual([502, 502, 502, 502]);
    expect(fault.hits).toBe(4);
    expect(results[1]).toBeInstanceOf(HTTPError);
    expect((results[1] as HTTPError).status).toBe(502);
  });

  it('surfaces 50013 Missing Permissions as DiscordAPIError, injected or from the bot role', async () => {
    const client = await login();
    fake.injectFault({ method: 'POST', path: /^\/channels\/\d+\/messages$/, status: 403, code: 50013 });
    const injected = await textChannel(client).send('hello').catch((e: unknown) => e);
    expect(injected).toBeInstanceOf(DiscordAPIError);
    expect(injected).toMatchObject({ code: 50013, status: 403, message: 'Missing Permissions' });

    const textOnly = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages;
    fake.setRolePermissions(guild.id, guild.id, textOnly);
    fake.setBotPermissions(guild.id, textOnly);
    await fake.waitFor(() => !client.guilds.cache.get(guild.id)!.members.me!.permissions.has(PermissionFlagsBits.AttachFiles));
    const noFiles = await textChannel(client)
      .send({ files: [new AttachmentBuilder(await png(2, 2), { name: 'x.png' })] })
      .catch((e: unknown) => e);
    expect(noFiles).toMatchObject({ code: 50013 });
    await expect(textChannel(client).send('text is fine')).resolves.toBeDefined();
  });

  it('opens DM channels (discord.js user.send), keeps their messages off the gateway, and answers 50007 to a user who refuses DMs', async () => {
    const client = await login();
    const created = () => fake.gatewayLog.filter((e) => e.dir === 'out' && e.t === 'MESSAGE_CREATE').length;
    const before = created();
    const alice = await client.users.fetch(aliceId);
    const sent = await alice.send('psst');
    const dm = fake.dmChannel(aliceId);
    expect(dm?.id).toBe(sent.channelId);
    expect(fake.messages(dm!.id).map((m) => m.content)).toEqual(['psst']);
    // A guild message after it is dispatched; the DM (created first) was not.
    await textChannel(client).send('marker');
    expect(await fake.waitFor(() => created() > before && created())).toBe(before + 1);

    fake.setAcceptsDms(aliceId, false);
    const refused = await alice.send('again').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DiscordAPIError);
    expect(refused).toMatchObject({ code: 50007, status: 403, message: 'Cannot send messages to this user' });
    expect(fake.messages(dm!.id)).toHaveLength(1);
  });

  it('answers 50027 Invalid Webhook Token once the interaction token expired', async () => {
    const client = await login();
    let edited: unknown;
    const tokenExpired = new Promise<void>((resolve) => {
      onInteraction(client, async (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        await interaction.deferReply();
        await new Promise<void>((r) => setTimeout(r, 50));
        resolve();
        await new Promise<void>((r) => setTimeout(r, 50));
        edited = await interaction.editReply('too late').catch((e: unknown) => e);
      });
    });
    const i = await fake.sendCommand({ userId: aliceId, channelId: channel.id, name: 'imagine' });
    await i.waitForResponse();
    await tokenExpired;
    fake.expireToken(i.token);
    await fake.waitFor(() => edited);
    expect(edited).toBeInstanceOf(DiscordAPIError);
    expect(edited).toMatchObject({ code: 50027, status: 401, message: 'Invalid Webhook Token' });
    expect(i.edits).toMatchObject([{ status: 401, ok: false }]);
  });

  it('fails fast when an interaction is sent while no client is connected', async () => {
    const i = await fake.sendCommand({ userId: aliceId, channelId: channel.id, name: 'imagine' });
    await expect(i.waitForResponse()).rejects.toThrow(/never delivered/);
    expect(fake.droppedEvents.map((e) => e.t)).toEqual(['INTERACTION_CREATE']);
  });

  it('answers unknown routes with 404 and records them', async () => {
    const client = await login();
    const error = await client.rest.get('/this/does/not/exist').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, code: 0, message: 'Unknown route' });
    expect(fake.unknownRoutes().map((r) => r.path)).toEqual(['/this/does/not/exist']);
  });

  it('resumes after a resumable disconnect and replays events dispatched meanwhile', async () => {
    const client = await login();
    const created: Message[] = [];
    client.on(Events.MessageCreate, (m) => created.push(m));
    const resumed = once(client, Events.ShardResume);
    fake.disconnectGateway({ resumable: true });
    const missed = fake.postMessage({ userId: aliceId, channelId: channel.id, content: 'while you were away' });
    const [, replayed] = (await resumed) as [number, number];
    // @discordjs/ws counts every dispatch received while resuming: the missed event plus RESUMED.
    expect(replayed).toBe(2);
    await fake.waitFor(() => created.find((m) => m.id === missed.id));
    const inbound = fake.gatewayLog.filter((e) => e.dir === 'in');
    expect(inbound.filter((e) => e.op === 2)).toHaveLength(1);
    expect(inbound.filter((e) => e.op === 6)).toHaveLength(1);
    expect(inbound.some((e) => e.path?.startsWith('/resume?v=10&encoding=json'))).toBe(true);
    expect(fake.droppedEvents).toEqual([]);
  });

  it('makes the client re-identify after a non-resumable disconnect (INVALID_SESSION)', async () => {
    const client = await login();
    const readyAgain = once(client, Events.ShardReady);
    fake.disconnectGateway({ resumable: false });
    await readyAgain;
    const ops = fake.gatewayLog.filter((e) => e.op !== undefined && e.op !== 1 && e.op !== 11).map((e) => `${e.dir}:${e.op}${e.t ? `:${e.t}` : ''}`);
    // IDENTIFY, then RESUME refused with op 9, then a fresh IDENTIFY and READY.
    expect(ops.filter((o) => o === 'in:2')).toHaveLength(2);
    expect(ops).toContain('in:6');
    expect(ops).toContain('out:9');
    expect(ops.filter((o) => o === 'out:0:READY')).toHaveLength(2);
    expect(fake.gatewayLog.some((e) => e.dir === 'close' && e.code === 4009 && e.by === 'server')).toBe(true);

    // The server records the reply before the client's `reply()` resolves: wait for the handler itself.
    let handled!: () => void;
    const replied = new Promise<void>((resolve) => (handled = resolve));
    onInteraction(client, async (interaction) => {
      if (interaction.isChatInputCommand()) await interaction.reply('back');
      handled();
    });
    const i = await fake.sendCommand({ userId: aliceId, channelId: channel.id, name: 'imagine' });
    expect((await i.waitForResponse()).ok).toBe(true);
    await replied;
  }, 15_000);

  it('speaks zlib-stream when asked (what discord.js requests when zlib-sync is installed)', async () => {
    const url = `${fake.gatewayUrl}/?v=10&encoding=json&compress=zlib-stream`;
    const ws = new WebSocket(url);
    const chunks: Buffer[] = [];
    const frames: unknown[] = [];
    ws.on('message', (data: Buffer) => {
      chunks.push(data);
      // Each message ends with the Z_SYNC_FLUSH marker; the whole stream so far inflates.
      expect(data.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))).toBe(true);
      const text = inflateSync(Buffer.concat(chunks), { finishFlush: 2 }).toString();
      frames.splice(0, frames.length, ...text.split(/(?<=})(?={)/).map((part) => JSON.parse(part) as unknown));
    });
    await once(ws, 'open');
    await fake.waitFor(() => frames.length >= 1);
    expect(frames[0]).toMatchObject({ op: 10, d: { heartbeat_interval: 5000 } });
    ws.send(JSON.stringify({ op: 2, d: { token: fake.token, intents: 1, properties: {}, shard: [0, 1] } }));
    await fake.waitFor(() => frames.length >= 3);
    expect(frames[1]).toMatchObject({ op: 0, t: 'READY', s: 1 });
    expect(frames[2]).toMatchObject({ op: 0, t: 'GUILD_CREATE', s: 2, d: { id: guild.id } });
    ws.close(1000);
    await once(ws, 'close');
  });
});
