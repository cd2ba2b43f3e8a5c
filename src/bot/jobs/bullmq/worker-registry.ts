import { z } from 'zod';
import { SCHEDULER_NAMES } from '../../../engine/schedulers/scheduler.ts';
import type { ModelInfo } from '../../../engine/types.ts';
import type { RedisClient } from './redis-client.ts';
import { RedisKeys } from './keys.ts';

/** What a worker is doing, as its heartbeat tells it. */
export interface RunningJobInfo {
  jobId: string;
  userId: string;
  guildId: string | null;
  prompt: string;
  model: string;
  step?: number;
  totalSteps?: number;
}

export interface WorkerStatus {
  id: string;
  host: string;
  models: string[];
  provider: string;
  startedAt: number;
  running: RunningJobInfo | null;
}

const workerStatusSchema = z.object({
  id: z.string(),
  host: z.string(),
  models: z.array(z.string()),
  provider: z.string(),
  startedAt: z.number(),
  running: z
    .object({
      jobId: z.string(),
      userId: z.string(),
      guildId: z.string().nullable(),
      prompt: z.string(),
      model: z.string(),
      step: z.number().optional(),
      totalSteps: z.number().optional(),
    })
    .nullable(),
});

/** A model some worker serves: what the gateway needs to validate /imagine requests for it. */
export type RegisteredModel = Omit<ModelInfo, 'path'>;

const registeredModelSchema = z.object({
  name: z.string(),
  // Older workers registered neither: take them for SD text-to-image models, which is all they ran.
  family: z.enum(['sd', 'sdxl', 'unconditional']).catch('sd'),
  capabilities: z
    .object({ textToImage: z.boolean(), img2img: z.boolean(), safetyChecker: z.boolean(), unconditional: z.boolean() })
    .catch({ textToImage: true, img2img: false, safetyChecker: false, unconditional: false }),
  nativeWidth: z.number(),
  nativeHeight: z.number(),
  defaultScheduler: z.enum(SCHEDULER_NAMES),
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample']),
  precision: z.enum(['float32', 'float16']),
});

function parseJson<T>(schema: z.ZodType<T>, text: string | null | undefined): T | undefined {
  if (!text) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Workers online (heartbeat keys that expire when a worker stops beating) and the models they have
 * registered (kept after they leave, so the gateway can still validate requests for a model whose
 * workers are all restarting).
 */
export class WorkerRegistry {
  constructor(private readonly redis: RedisClient) {}

  async beat(status: WorkerStatus, ttlMs: number): Promise<void> {
    await this.redis.multi().set(RedisKeys.worker(status.id), JSON.stringify(status), { PX: ttlMs }).sAdd(RedisKeys.workers, status.id).exec();
  }

  async leave(workerId: string): Promise<void> {
    await this.redis.multi().del(RedisKeys.worker(workerId)).sRem(RedisKeys.workers, workerId).exec();
  }

  async online(): Promise<WorkerStatus[]> {
    const ids = await this.redis.sMembers(RedisKeys.workers);
    if (ids.length === 0) return [];
    const beats = await this.redis.mGet(ids.map((id) => RedisKeys.worker(id)));
    const online: WorkerStatus[] = [];
    const gone: string[] = [];
    ids.forEach((id, index) => {
      const status = parseJson(workerStatusSchema, beats[index]);
      if (status) online.push(status);
      else gone.push(id);
    });
    if (gone.length > 0) await this.redis.sRem(RedisKeys.workers, gone);
    return online.sort((a, b) => a.id.localeCompare(b.id));
  }

  async registerModel(model: ModelInfo): Promise<void> {
    const { path: _path, ...shared } = model;
    await this.redis.hSet(RedisKeys.models, model.name, JSON.stringify(shared));
  }

  async models(): Promise<RegisteredModel[]> {
    const entries = await this.redis.hGetAll(RedisKeys.models);
    return Object.values(entries)
      .map((text) => parseJson(registeredModelSchema, text))
      .filter((model): model is RegisteredModel => model !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
