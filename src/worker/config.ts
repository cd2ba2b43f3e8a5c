import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError, loadConfig, type BotConfig } from '../bot/config.ts';

/** A worker reads the bot's settings (Discord, engine, previews) plus these. */
export interface WorkerConfig extends BotConfig {
  queueUrl: string;
  /** Model folders this worker serves (one engine pool each). */
  modelDirs: string[];
  workerId: string;
  host: string;
  lockDurationMs: number;
  heartbeatMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const wholeNumber = (name: string, min: number, max: number) =>
  z
    .string()
    .refine((text) => /^\d+$/.test(text.trim()), `${name} must be a whole number`)
    .transform((text) => Number(text.trim()))
    .refine((value) => value >= min && value <= max, `${name} must be between ${min} and ${max}`);

const workerShape = z.object({
  IMAGINE_MODELS: z.string().optional(),
  IMAGINE_WORKER_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'IMAGINE_WORKER_ID may use letters, digits, dot, dash and underscore (at most 64)')
    .optional(),
  IMAGINE_WORKER_LOCK_MS: wholeNumber('IMAGINE_WORKER_LOCK_MS', 1000, 600_000).optional(),
  IMAGINE_WORKER_HEARTBEAT_MS: wholeNumber('IMAGINE_WORKER_HEARTBEAT_MS', 200, 60_000).optional(),
});

export function loadWorkerConfig(env: Env): WorkerConfig {
  const base = loadConfig(env);
  if (!base.queueUrl) throw new ConfigError('Configuration error: IMAGINE_QUEUE_URL is required for a worker (redis://… or rediss://…, the same as the gateway\'s)');
  const blanksOut = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
  const parsed = workerShape.safeParse(blanksOut);
  if (!parsed.success) throw new ConfigError(`Configuration error: ${[...new Set(parsed.error.issues.map((issue) => issue.message))].join('; ')}`);
  const models = parsed.data.IMAGINE_MODELS?.split(',').map((dir) => dir.trim()).filter(Boolean) ?? [];
  const host = hostname();
  return {
    ...base,
    queueUrl: base.queueUrl,
    modelDirs: models.length > 0 ? [...new Set(models)] : [base.modelDir],
    workerId: parsed.data.IMAGINE_WORKER_ID ?? `${host}-${process.pid}`,
    host,
    lockDurationMs: parsed.data.IMAGINE_WORKER_LOCK_MS ?? 30_000,
    heartbeatMs: parsed.data.IMAGINE_WORKER_HEARTBEAT_MS ?? 5000,
  };
}
