import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach } from 'vitest';
import { PermissionFlagsBits, type APIApplicationCommandInteractionDataOption, type APIEmbed } from 'discord.js';
import { ImagineBot, type ImagineBotOptions } from '../../../src/bot/bot.ts';
import { createLogger } from '../../../src/bot/logger.ts';
import { DEFAULT_ATTACHMENT_LIMITS } from '../../../src/bot/attachments/fetch-attachment.ts';
import { openStoreBackend, type StoreBackend } from '../../../src/bot/settings/stores.ts';
import type { Engine } from '../../../src/engine/types.ts';
import { FakeDiscord, type InteractionHandle } from '../../discord/fake-discord.ts';
import type { FakeChannel, FakeGuild, FakeMessage } from '../../discord/fake-discord.ts';
import { FakeEngine, type FakeEngineOptions } from '../fake-engine.ts';
import { RecordingEngine } from './recording-engine.ts';

/**
 * The one place that decides which engine the e2e tests drive: the real engine on the tiny model
 * by default, the fake with E2E_FAKE_ENGINE=1 (quicker when working on the bot alone). Tests read
 * sizes and names from `engine.info`, so they pass on either; fake-only options (step delays) are
 * ignored by the real one, which is slower anyway.
 */
export async function makeEngine(options: FakeEngineOptions = {}): Promise<Engine> {
  if (process.env.E2E_FAKE_ENGINE) return new FakeEngine({ stepDelayMs: 40, ...options });
  return realEngine();
}

let tinyModel: Promise<string> | undefined;

async function realEngine(): Promise<Engine> {
  // Imported lazily so that fake-engine runs never load onnxruntime. Each test process builds its
  // own tiny model (a fraction of a second) so parallel files never race on one folder.
  const { createEngine } = await import('../../../src/engine/index.ts');
  const { ensureTinyModel } = await import('../../../src/models/default-model.ts');
  tinyModel ??= mkdtemp(path.join(tmpdir(), 'imagine-e2e-model-')).then((modelsDir) => ensureTinyModel({ modelsDir }));
  return createEngine({ modelDir: await tinyModel, provider: 'cpu' });
}

export interface World {
  fake: FakeDiscord;
  guild: FakeGuild;
  channel: FakeChannel;
  alice: string;
  bob: string;
  /** Has Manage Channels and Manage Messages. */
  moderator: string;
  storeDir: string;
}

export async function startWorld(): Promise<World> {
  const fake = await FakeDiscord.start({});
  const guild = fake.addGuild({ name: 'test guild' });
  const channel = fake.addChannel(guild.id, { name: 'art' });
  const alice = fake.addUser({ username: 'alice' }).id;
  const bob = fake.addUser({ username: 'bob' }).id;
  const moderator = fake.addUser({ username: 'mod' }).id;
  fake.addMember(guild.id, alice);
  fake.addMember(guild.id, bob);
  fake.addMember(guild.id, moderator, { permissions: PermissionFlagsBits.ManageChannels | PermissionFlagsBits.ManageMessages });
  const storeDir = await mkdtemp(path.join(tmpdir(), 'imagine-e2e-'));
  return { fake, guild, channel, alice, bob, moderator, storeDir };
}

export interface RunningBot {
  bot: ImagineBot;
  engine: RecordingEngine;
  stores: StoreBackend;
  logs: string[];
  stop(): Promise<void>;
}

export type BotOverrides = Partial<Pick<ImagineBotOptions, 'concurrency' | 'previewIntervalMs' | 'maxQueuedPerUser' | 'uploadLimitBytes' | 'shutdownGraceMs' | 'moderation' | 'attachmentLimits'>> & {
  engine?: Engine;
};

/** A real ImagineBot logged into the fake, with its store in the world's folder (shared across restarts). */
export async function startBot(world: World, overrides: BotOverrides = {}): Promise<RunningBot> {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      if (process.env.E2E_LOG) process.stderr.write(chunk);
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const engine = new RecordingEngine(overrides.engine ?? (await makeEngine()));
  const stores = openStoreBackend(world.storeDir);
  const bot = new ImagineBot({
    discord: { token: world.fake.token, applicationId: world.fake.applicationId, apiUrl: world.fake.restUrl },
    engine,
    stores,
    logger,
    concurrency: overrides.concurrency ?? 1,
    previewIntervalMs: overrides.previewIntervalMs ?? 300,
    maxQueuedPerUser: overrides.maxQueuedPerUser ?? 2,
    uploadLimitBytes: overrides.uploadLimitBytes ?? 10 * 1024 * 1024,
    shutdownGraceMs: overrides.shutdownGraceMs ?? 2000,
    // The tiny test models have no safety checker: vouched for, as an operator would with
    // IMAGINE_SFW_MODELS, unless a test decides (the NSFW policy tests pass their own list).
    moderation: { sfwModels: await modelNames(engine), ...overrides.moderation },
    // The loopback Discord serves attachments itself, as its CDN.
    attachmentLimits: overrides.attachmentLimits ?? { ...DEFAULT_ATTACHMENT_LIMITS, hosts: [new URL(world.fake.restUrl).host] },
  });
  await bot.start();
  let stopped = false;
  return {
    bot,
    engine,
    stores,
    logs,
    async stop() {
      if (stopped) return;
      stopped = true;
      await bot.stop();
      await stores.close();
    },
  };
}

async function modelNames(engine: Engine): Promise<string[]> {
  const listing = engine as Engine & { listModels?: () => Array<{ name: string }> };
  return [engine.info.model.name, ...(listing.listModels?.().map((model) => model.name) ?? [])];
}

export async function stopAll(world: World | undefined, bots: RunningBot[]): Promise<void> {
  for (const bot of bots.splice(0)) await bot.stop().catch(() => undefined);
  if (!world) return;
  await world.fake.close();
  await rm(world.storeDir, { recursive: true, force: true });
}

export interface Scene {
  /** This test's world (a fresh fake Discord and store folder). */
  readonly world: World;
  /** Starts a bot that is stopped after the test. */
  startBot(overrides?: BotOverrides): Promise<RunningBot>;
}

/** Gives each test of the calling `describe` its own world, and stops its bots and server afterwards. */
export function useWorld(): Scene {
  let current: World | undefined;
  const bots: RunningBot[] = [];
  beforeEach(async () => {
    current = await startWorld();
  });
  afterEach(async () => {
    await stopAll(current, bots);
    current = undefined;
  });
  const world = () => {
    if (!current) throw new Error('useWorld: no world outside a test');
    return current;
  };
  return {
    get world() {
      return world();
    },
    async startBot(overrides) {
      const bot = await startBot(world(), overrides);
      bots.push(bot);
      return bot;
    },
  };
}

type OptionValue = string | number | boolean;

const OPTION_TYPES = { string: 3, integer: 4, boolean: 5, number: 10 } as const;

/** Builds command options; integers vs numbers follow /imagine's and /settings' definitions. */
export function options(values: Record<string, OptionValue | undefined>): APIApplicationCommandInteractionDataOption[] {
  const numbers = new Set(['guidance', 'strength']);
  return Object.entries(values)
    .filter((entry): entry is [string, OptionValue] => entry[1] !== undefined)
    .map(([name, value]) => {
      const type =
        typeof value === 'string' ? OPTION_TYPES.string : typeof value === 'boolean' ? OPTION_TYPES.boolean : numbers.has(name) ? OPTION_TYPES.number : OPTION_TYPES.integer;
      return { name, type, value } as APIApplicationCommandInteractionDataOption;
    });
}

export function imagine(world: World, userId: string, values: Record<string, OptionValue | undefined>): Promise<InteractionHandle> {
  return world.fake.sendCommand({ userId, guildId: world.guild.id, channelId: world.channel.id, name: 'imagine', options: options(values) });
}

export function settings(world: World, userId: string, subcommand: 'show' | 'set' | 'reset', values: Record<string, OptionValue | undefined> = {}) {
  return world.fake.sendCommand({
    userId,
    guildId: world.guild.id,
    channelId: world.channel.id,
    name: 'settings',
    options: [{ name: subcommand, type: 1, options: options(values) } as APIApplicationCommandInteractionDataOption],
  });
}

export function embedOf(message: FakeMessage | undefined): APIEmbed | undefined {
  return message?.embeds?.[0];
}

export function embedField(message: FakeMessage | undefined, name: string): string | undefined {
  return embedOf(message)?.fields?.find((field) => field.name === name)?.value;
}

/** A finished result: a message whose embed shows a seed. */
export function isResult(message: FakeMessage | undefined): boolean {
  return embedField(message, 'Seed') !== undefined;
}

/**
 * Waits until the interaction's reply shows a result, and returns that message. The default bound
 * only catches a hang: on a machine at load 13 a real-engine job that takes 2 s idle takes 30.
 */
export function waitForResult(world: World, interaction: InteractionHandle, timeoutMs = 90_000): Promise<FakeMessage> {
  return world.fake.waitFor(
    () => {
      const original = interaction.original();
      return isResult(original) ? original : undefined;
    },
    { timeoutMs, message: 'the result never arrived' },
  );
}

/** Ephemeral text the bot sent back for an interaction (reply or follow-up). */
export function privateReplies(interaction: InteractionHandle): string[] {
  const fromCallbacks = interaction.responses.filter((r) => r.ephemeral).map((r) => String(r.data?.content ?? ''));
  const fromFollowUps = interaction.followUps().filter((m) => ((m.flags ?? 0) & 64) !== 0).map((m) => m.content);
  return [...fromCallbacks, ...fromFollowUps];
}
