import { z } from 'zod';
import type { ProviderChoice } from '../engine/types.ts';
import { DISCORD_CDN_HOSTS } from './attachments/fetch-attachment.ts';

/** Everything the bot reads from the environment, validated once at start. */
export interface BotConfig {
  discord: DiscordConfig;
  modelDir: string;
  /** Every model folder the embedded bot serves (IMAGINE_MODEL first, the default, then IMAGINE_MODELS). */
  modelDirs: string[];
  provider: ProviderChoice;
  concurrency: number;
  previewIntervalMs: number;
  maxQueuedPerUser: number;
  /** `redis://…` / `rediss://…`, or the folder of the embedded SQLite database (imagine.db). */
  storeUrl: string;
  /** Set: distributed mode (gateway + workers on BullMQ at this Redis). Unset: embedded mode. */
  queueUrl: string | undefined;
  logLevel: LogLevel;
  /** How long a running job may keep going after SIGINT/SIGTERM before it is cancelled. */
  shutdownGraceMs: number;
  /** Largest attachment total Discord accepts from us; bigger results are re-encoded as WebP. */
  uploadLimitBytes: number;
  /** Whether /imagine answers in DMs with the bot (IMAGINE_ALLOW_DMS); off by default. */
  allowDms: boolean;
  /** Per-user wait between 🔁 rerolls (reaction or button), so one member cannot flood the queue. */
  rerollCooldownMs: number;
  /** Hosts /imagine image: attachments may be downloaded from (Discord's CDN by default). */
  attachmentHosts: string[];
  /**
   * Models without a safety checker that the operator vouches cannot draw explicit images, so they may
   * draw in any channel (IMAGINE_SFW_MODELS; default emoji-sd, trained on emoji and nothing else).
   */
  sfwModels: string[];
}

export interface DiscordConfig {
  token: string;
  applicationId: string;
  apiUrl: string;
  guildId: string | undefined;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_MODEL_DIR = 'models/emoji-sd';
/** The bundled model learnt from the Noto emoji alone: it has nothing explicit to draw. */
export const DEFAULT_SFW_MODELS = ['emoji-sd'];
export const DEFAULT_STORE_URL = 'data';
export const DEFAULT_API_URL = 'https://discord.com/api';

/** A configuration problem, phrased as one line a person can act on. Never contains secret values. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const snowflake = (name: string) =>
  z.string().regex(/^\d{1,20}$/, `${name} must be a Discord id (digits only)`);

const wholeNumber = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .refine((text) => /^\d+$/.test(text.trim()), `${name} must be a whole number`)
    .transform((text) => Number(text.trim()))
    .refine((value) => value >= min && value <= max, `${name} must be between ${min} and ${max}`);

const discordShape = {
  // The message never echoes the value: a token pasted into the wrong variable must not reach logs.
  DISCORD_TOKEN: z
    .string({ error: 'DISCORD_TOKEN is required (the bot token from the Discord developer portal)' })
    .min(1, 'DISCORD_TOKEN is required (the bot token from the Discord developer portal)')
    .refine((token) => !/\s/.test(token), 'DISCORD_TOKEN must not contain spaces or line breaks'),
  DISCORD_APPLICATION_ID: z
    .string({ error: 'DISCORD_APPLICATION_ID is required (the application id from the Discord developer portal)' })
    .pipe(snowflake('DISCORD_APPLICATION_ID')),
  DISCORD_API_URL: z
    .string()
    .default(DEFAULT_API_URL)
    .refine((text) => /^https?:\/\/[^\s]+$/.test(text) && URL.canParse(text), 'DISCORD_API_URL must be an http(s) URL')
    .transform((text) => text.replace(/\/+$/, '')),
  DISCORD_GUILD_ID: snowflake('DISCORD_GUILD_ID').optional(),
};

const botShape = {
  ...discordShape,
  IMAGINE_MODEL: z.string().default(DEFAULT_MODEL_DIR),
  IMAGINE_MODELS: z.string().optional(),
  IMAGINE_PROVIDER: z.enum(['auto', 'cpu', 'cuda', 'webgpu'], {
    error: 'IMAGINE_PROVIDER must be one of auto, cpu, cuda, webgpu',
  }).default('auto'),
  IMAGINE_CONCURRENCY: wholeNumber('IMAGINE_CONCURRENCY', 1, 16, 1),
  IMAGINE_PREVIEW_INTERVAL_MS: wholeNumber('IMAGINE_PREVIEW_INTERVAL_MS', 100, 60_000, 1500),
  IMAGINE_MAX_QUEUED_PER_USER: wholeNumber('IMAGINE_MAX_QUEUED_PER_USER', 1, 100, 2),
  IMAGINE_STORE_URL: z
    .string()
    .default(DEFAULT_STORE_URL)
    .refine(
      (text) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || /^(rediss?|file):\/\//i.test(text),
      'IMAGINE_STORE_URL must be redis://…, rediss://…, file://… or a folder path',
    ),
  IMAGINE_QUEUE_URL: z
    .string()
    .refine((text) => /^rediss?:\/\/[^\s]+$/i.test(text) && URL.canParse(text), 'IMAGINE_QUEUE_URL must be redis://… or rediss://…')
    .optional(),
  IMAGINE_SHUTDOWN_GRACE_MS: wholeNumber('IMAGINE_SHUTDOWN_GRACE_MS', 0, 3_600_000, 30_000),
  IMAGINE_UPLOAD_LIMIT_BYTES: wholeNumber('IMAGINE_UPLOAD_LIMIT_BYTES', 256 * 1024, 500 * 1024 * 1024, 10 * 1024 * 1024),
  IMAGINE_ALLOW_DMS: z
    .string()
    .default('false')
    .refine((text) => /^(true|false|1|0|yes|no)$/i.test(text), 'IMAGINE_ALLOW_DMS must be true or false')
    .transform((text) => /^(true|1|yes)$/i.test(text)),
  IMAGINE_REROLL_COOLDOWN_S: wholeNumber('IMAGINE_REROLL_COOLDOWN_S', 0, 3600, 10),
  IMAGINE_ATTACHMENT_HOSTS: z
    .string()
    .default(DISCORD_CDN_HOSTS.join(','))
    .transform((text) => text.split(',').map((host) => host.trim().toLowerCase()).filter((host) => host !== ''))
    .refine((hosts) => hosts.length > 0 && hosts.every((host) => /^[a-z0-9.-]+(:\d+)?$/.test(host)), 'IMAGINE_ATTACHMENT_HOSTS must be a comma-separated list of host names (host or host:port)'),
  IMAGINE_SFW_MODELS: z
    .string()
    .default(DEFAULT_SFW_MODELS.join(','))
    .transform((text) => (text.trim().toLowerCase() === 'none' ? [] : text.split(',').map((name) => name.trim()).filter((name) => name !== ''))),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
};

type Env = Readonly<Record<string, string | undefined>>;

/** `FOO=` in a .env file means "not set", not "set to nothing". */
function withoutBlanks(env: Env, keys: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const key of keys) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') picked[key] = value.trim();
  }
  return picked;
}

function describeIssues(error: z.ZodError): string {
  const messages = error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? 'environment');
    // zod's own wording for type errors does not name the variable; ours always does.
    return issue.message.includes(variable) ? issue.message : `${variable}: ${issue.message}`;
  });
  return `Configuration error: ${[...new Set(messages)].join('; ')}`;
}

function parse<Shape extends z.ZodRawShape>(shape: Shape, env: Env): z.infer<z.ZodObject<Shape>> {
  const result = z.object(shape).safeParse(withoutBlanks(env, Object.keys(shape)));
  if (!result.success) throw new ConfigError(describeIssues(result.error));
  return result.data;
}

/** Just what registering slash commands needs. */
export function loadDiscordConfig(env: Env): DiscordConfig {
  const parsed = parse(discordShape, env);
  return {
    token: parsed.DISCORD_TOKEN,
    applicationId: parsed.DISCORD_APPLICATION_ID,
    apiUrl: parsed.DISCORD_API_URL,
    guildId: parsed.DISCORD_GUILD_ID,
  };
}

export function loadConfig(env: Env): BotConfig {
  const parsed = parse(botShape, env);
  const queueUrl = parsed.IMAGINE_QUEUE_URL;
  const storeSet = (env.IMAGINE_STORE_URL ?? '').trim() !== '';
  // Several processes on several hosts must see the same settings and results: they live in Redis.
  if (queueUrl && storeSet && !/^rediss?:\/\//i.test(parsed.IMAGINE_STORE_URL)) {
    throw new ConfigError('Configuration error: IMAGINE_STORE_URL must be redis://… or rediss://… in the distributed mode (IMAGINE_QUEUE_URL is set), or left unset to use the queue\'s Redis');
  }
  return {
    discord: {
      token: parsed.DISCORD_TOKEN,
      applicationId: parsed.DISCORD_APPLICATION_ID,
      apiUrl: parsed.DISCORD_API_URL,
      guildId: parsed.DISCORD_GUILD_ID,
    },
    modelDir: parsed.IMAGINE_MODEL,
    modelDirs: [...new Set([parsed.IMAGINE_MODEL, ...(parsed.IMAGINE_MODELS ?? '').split(',').map((dir) => dir.trim()).filter(Boolean)])],
    provider: parsed.IMAGINE_PROVIDER,
    concurrency: parsed.IMAGINE_CONCURRENCY,
    previewIntervalMs: parsed.IMAGINE_PREVIEW_INTERVAL_MS,
    maxQueuedPerUser: parsed.IMAGINE_MAX_QUEUED_PER_USER,
    storeUrl: queueUrl && !storeSet ? queueUrl : parsed.IMAGINE_STORE_URL,
    queueUrl,
    logLevel: parsed.LOG_LEVEL,
    shutdownGraceMs: parsed.IMAGINE_SHUTDOWN_GRACE_MS,
    uploadLimitBytes: parsed.IMAGINE_UPLOAD_LIMIT_BYTES,
    allowDms: parsed.IMAGINE_ALLOW_DMS,
    rerollCooldownMs: parsed.IMAGINE_REROLL_COOLDOWN_S * 1000,
    attachmentHosts: parsed.IMAGINE_ATTACHMENT_HOSTS,
    sfwModels: parsed.IMAGINE_SFW_MODELS,
  };
}

/** The configuration as it may be logged: the token is left out, not masked, so no code path can print it. */
export function describeConfig(config: BotConfig): Record<string, unknown> {
  const { discord, storeUrl, queueUrl, ...rest } = config;
  return {
    ...rest,
    storeUrl: withoutPassword(storeUrl),
    queueUrl: queueUrl === undefined ? undefined : withoutPassword(queueUrl),
    applicationId: discord.applicationId,
    apiUrl: discord.apiUrl,
    guildId: discord.guildId,
  };
}

/** A Redis URL as it may be logged: any password replaced. */
export function withoutPassword(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || !URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (parsed.password) parsed.password = 'redacted';
  return parsed.toString();
}
