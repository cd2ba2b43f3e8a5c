import { Queue, QueueEvents, type Job as BullJob } from 'bullmq';
import type { Logger } from 'pino';
import { closeRedis, type RedisClient } from './redis-client.ts';
import { BULL_PREFIX, bullJobId, queueNameFor } from './keys.ts';
import { wireJobSchema, type WireJob } from './wire-job.ts';

/** States in which a job still waits for a worker. */
export const WAITING_STATES = new Set(['waiting', 'prioritized', 'delayed', 'wait']);

export interface WaitingJob {
  bull: BullJob<WireJob>;
  wire: WireJob;
}

/**
 * The gateway's handles on the per-model BullMQ queues: one `Queue` to add and read jobs, one
 * `QueueEvents` per model to hear about changes. Opened lazily, per model name.
 */
export class ModelQueues {
  readonly #queues = new Map<string, Queue<WireJob>>();
  readonly #events = new Map<string, { events: QueueEvents; client: RedisClient }>();

  constructor(
    private readonly options: {
      /** Commands (fail-fast) client, shared by the queues. */
      redis: RedisClient;
      /** Opens a dedicated connection, for the blocking reads of `QueueEvents`. */
      connect: () => Promise<RedisClient>;
      onChange: () => void;
      logger: Logger;
    },
  ) {}

  get models(): string[] {
    return [...this.#queues.keys()];
  }

  queue(model: string): Queue<WireJob> {
    let queue = this.#queues.get(model);
    if (!queue) {
      queue = new Queue<WireJob>(queueNameFor(model), { connection: this.options.redis as never, prefix: BULL_PREFIX });
      queue.on('error', (error) => this.options.logger.debug({ err: error.message, model }, 'queue connection error'));
      this.#queues.set(model, queue);
    }
    return queue;
  }

  /** Starts listening to a model queue's events (once per model). */
  async watch(model: string): Promise<void> {
    this.queue(model);
    if (this.#events.has(model)) return;
    const client = await this.options.connect();
    const events = new QueueEvents(queueNameFor(model), { connection: client as never, prefix: BULL_PREFIX });
    events.on('error', (error) => this.options.logger.debug({ err: error.message, model }, 'queue events connection error'));
    for (const name of ['added', 'waiting', 'active', 'completed', 'failed', 'removed', 'stalled'] as const) {
      events.on(name, () => this.options.onChange());
    }
    this.#events.set(model, { events, client });
  }

  /** Waiting jobs of one model in the order workers will take them. */
  async waiting(model: string): Promise<WaitingJob[]> {
    const queue = this.queue(model);
    const jobs = [...(await queue.getWaiting(0, -1)), ...(await queue.getPrioritized(0, -1))] as BullJob<WireJob>[];
    return jobs.flatMap((bull) => {
      const parsed = wireJobSchema.safeParse(bull?.data);
      return parsed.success ? [{ bull, wire: parsed.data }] : [];
    });
  }

  /** A job by our id, in whichever model queue holds it. */
  async find(jobId: string, models: readonly string[]): Promise<WaitingJob | undefined> {
    for (const model of new Set([...models, ...this.models])) {
      const bull = (await this.queue(model).getJob(bullJobId(jobId))) as BullJob<WireJob> | undefined;
      if (!bull) continue;
      const parsed = wireJobSchema.safeParse(bull.data);
      if (parsed.success) return { bull, wire: parsed.data };
    }
    return undefined;
  }

  async close(): Promise<void> {
    for (const { events, client } of this.#events.values()) {
      await events.close().catch(() => undefined);
      await closeRedis(client);
    }
    for (const queue of this.#queues.values()) await queue.close().catch(() => undefined);
    this.#events.clear();
    this.#queues.clear();
  }
}
