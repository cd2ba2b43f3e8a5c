import type { Logger } from 'pino';
import { randomSeed } from '../../../engine/request.ts';
import { CoalescingUpdater } from '../../delivery/coalescing-updater.ts';
import { describeDiscordError, retryAfterMs } from '../../delivery/discord-errors.ts';
import type { DiscordMessenger } from '../../delivery/discord-messenger.ts';
import type { CancelReason, Job } from '../job.ts';
import { cancelledMessage, queuedMessage } from '../../delivery/job-messages.ts';
import type { Refusal, SubmitOutcome } from '../job-queue.ts';
import type { DeskReserveOutcome, JobDesk, JobSummary, QueueView } from '../job-desk.ts';
import { bullJobId, JOB_NAME, RedisKeys } from './keys.ts';
import { ModelQueues, WAITING_STATES } from './model-queues.ts';
import type { RedisClient } from './redis-client.ts';
import { UserLedger } from './user-ledger.ts';
import { fromWireJob, toWireJob, type WireJob } from './wire-job.ts';
import { WorkerRegistry } from './worker-registry.ts';

export interface GatewayDeskOptions {
  /** Fail-fast commands client. */
  redis: RedisClient;
  /** Opens another connection (for blocking reads). */
  connect: () => Promise<RedisClient>;
  /** The model new jobs are routed to. */
  model: string;
  maxQueuedPerUser: number;
  previewIntervalMs: number;
  messenger: DiscordMessenger;
  logger: Logger;
  /** How long a Redis call may take before the job is refused as "unavailable". Default 5000. */
  redisTimeoutMs?: number;
  /** Safety net for missed events (e.g. across a Redis restart). Default 5000. */
  refreshEveryMs?: number;
}

/** Retries of a job whose processing threw (e.g. its delivery is claimed by a worker that is still sending). */
const JOB_ATTEMPTS = 5;

const unavailable: Refusal = { accepted: false, reason: 'unavailable' };

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function summarize(wire: WireJob): JobSummary {
  return { id: wire.id, userId: wire.userId, guildId: wire.guildId, prompt: wire.request.prompt };
}

/**
 * The gateway's side of the distributed mode: admits jobs (cap and fairness atomically in Redis),
 * puts them on their model's BullMQ queue, keeps queue positions up to date on users' messages, and
 * passes cancels on to workers. It runs nothing itself; stopping it leaves every job in Redis alone.
 */
export class GatewayDesk implements JobDesk {
  readonly #ledger: UserLedger;
  readonly #registry: WorkerRegistry;
  readonly #queues: ModelQueues;
  /** Status updaters of waiting jobs, with the position last pushed. */
  readonly #shown = new Map<string, { updater: CoalescingUpdater<number>; position: number }>();
  #closed = false;
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(private readonly options: GatewayDeskOptions) {
    this.#ledger = new UserLedger(options.redis);
    this.#registry = new WorkerRegistry(options.redis);
    this.#queues = new ModelQueues({ redis: options.redis, connect: options.connect, onChange: () => this.#scheduleRefresh(), logger: options.logger });
  }

  static async open(options: GatewayDeskOptions): Promise<GatewayDesk> {
    const desk = new GatewayDesk(options);
    await desk.#queues.watch(options.model);
    desk.#timer = setInterval(() => desk.#scheduleRefresh(), options.refreshEveryMs ?? 5000);
    desk.#scheduleRefresh();
    return desk;
  }

  available(): boolean {
    return !this.#closed && this.options.redis.isReady;
  }

  async reserve(userId: string): Promise<DeskReserveOutcome> {
    if (this.#closed) return { accepted: false, reason: 'closed' };
    if (!this.available()) return unavailable;
    const { maxQueuedPerUser } = this.options;
    try {
      if ((await this.#call(this.#ledger.waitingCount(userId))) >= maxQueuedPerUser) return { accepted: false, reason: 'user-limit', limit: maxQueuedPerUser };
    } catch (error) {
      this.options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'queue unavailable at admission');
      return unavailable;
    }
    // The check above is advisory; `submit` re-checks atomically. Nothing is held in between.
    return { accepted: true, reservation: { release: () => undefined } };
  }

  async submit(job: Job): Promise<SubmitOutcome> {
    if (this.#closed) return { accepted: false, reason: 'closed' };
    const { maxQueuedPerUser } = this.options;
    const model = job.request.model ?? this.options.model;
    // Positions of jobs on this model's queue are kept up to date as for the default one.
    await this.#call(this.#queues.watch(model)).catch(() => undefined);
    // The seed is fixed here so that a rerun (after a worker died) draws the same image.
    const wire = toWireJob(job, model, job.request.seed ?? randomSeed());
    let priority: number;
    try {
      const admission = await this.#call(this.#ledger.admit(job.userId, job.id, maxQueuedPerUser));
      if (!admission.admitted) return { accepted: false, reason: 'user-limit', limit: maxQueuedPerUser };
      priority = admission.priority;
    } catch (error) {
      job.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'queue unavailable: job refused');
      return unavailable;
    }
    try {
      await this.#call(
        this.#queues.queue(model).add(JOB_NAME, wire, {
          jobId: bullJobId(job.id),
          priority,
          attempts: JOB_ATTEMPTS,
          backoff: { type: 'exponential', delay: 5000 },
          removeOnComplete: { age: 3600, count: 1000 },
          removeOnFail: { age: 7 * 24 * 3600 },
        }),
      );
    } catch (error) {
      job.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'queue unavailable: job refused');
      await this.#ledger.forget(job.userId, job.id).catch(() => undefined);
      return unavailable;
    }
    job.log.info({ userId: job.userId, channelId: job.channelId, request: wire.request, model, priority }, 'job submitted');
    const positions = await this.#refreshNow().catch(() => new Map<string, number>());
    return { accepted: true, position: positions.get(job.id) ?? 0 };
  }

  async cancel(jobId: string, reason: CancelReason): Promise<'queued' | 'running' | 'unknown'> {
    const found = await this.#call(this.#queues.find(jobId, [this.options.model]));
    if (!found) return 'unknown';
    const state = await this.#call(found.bull.getState());
    if (WAITING_STATES.has(state)) {
      const removed = await found.bull.remove().then(
        () => true,
        () => false,
      );
      if (removed) {
        await this.#ledger.forget(found.wire.userId, jobId).catch(() => undefined);
        const job = fromWireJob(found.wire, this.options.messenger, this.options.logger);
        const entry = this.#shown.get(jobId);
        this.#shown.delete(jobId);
        const deliver = () => job.reply.deliver(cancelledMessage(job, reason));
        await (entry ? entry.updater.finish(deliver) : deliver()).catch((error: unknown) =>
          job.log.warn({ err: describeDiscordError(error) }, 'could not show the cancellation'),
        );
        job.log.info({ reason }, 'job cancelled while queued');
        return 'queued';
      }
    } else if (state !== 'active') {
      return 'unknown';
    }
    // Running (or just taken): the worker checks this flag when it starts and hears about it at once.
    await this.#call(this.options.redis.set(RedisKeys.cancel(jobId), JSON.stringify(reason), { PX: 24 * 3600 * 1000 }));
    await this.#call(this.options.redis.publish(RedisKeys.cancelChannel, jobId));
    return 'running';
  }

  async ownerOf(jobId: string): Promise<string | undefined> {
    const found = await this.#call(this.#queues.find(jobId, [this.options.model]));
    if (!found) return undefined;
    const state = await this.#call(found.bull.getState());
    return WAITING_STATES.has(state) || state === 'active' ? found.wire.userId : undefined;
  }

  async view(): Promise<QueueView> {
    const workers = await this.#call(this.#registry.online());
    const queued: JobSummary[] = [];
    for (const model of this.#queues.models) queued.push(...(await this.#call(this.#queues.waiting(model))).map(({ wire }) => summarize(wire)));
    const running = workers.flatMap((worker) => (worker.running ? [this.#runningSummary(worker.running)] : []));
    return {
      running,
      queued,
      workers: workers.map((worker) => ({
        id: worker.id,
        host: worker.host,
        models: worker.models,
        provider: worker.provider,
        running: worker.running ? this.#runningSummary(worker.running) : null,
      })),
    };
  }

  /** Stops position updates and closes the gateway's queue handles; jobs in Redis carry on. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const { updater } of this.#shown.values()) updater.stop();
    this.#shown.clear();
    await this.#refreshing?.catch(() => undefined);
    await this.#queues.close();
  }

  #runningSummary(running: { jobId: string; userId: string; guildId: string | null; prompt: string; step?: number; totalSteps?: number }): JobSummary {
    const { jobId, userId, guildId, prompt, step, totalSteps } = running;
    return { id: jobId, userId, guildId, prompt, ...(step !== undefined && totalSteps !== undefined ? { step, totalSteps } : {}) };
  }

  #call<T>(promise: Promise<T>): Promise<T> {
    return withTimeout(promise, this.options.redisTimeoutMs ?? 5000);
  }

  #scheduleRefresh(): void {
    if (this.#closed) return;
    this.#refreshNow().catch((error: unknown) =>
      this.options.logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'could not refresh queue positions'),
    );
  }

  /** Recomputes every waiting job's position and updates the messages whose position changed. */
  async #refreshNow(): Promise<Map<string, number>> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      await this.#refreshing.catch(() => undefined);
    }
    let positions = new Map<string, number>();
    const run = async () => {
      do {
        this.#refreshAgain = false;
        positions = await this.#refreshOnce();
      } while (this.#refreshAgain && !this.#closed);
    };
    this.#refreshing ??= run().finally(() => (this.#refreshing = undefined));
    await this.#refreshing;
    return positions;
  }

  async #refreshOnce(): Promise<Map<string, number>> {
    const positions = new Map<string, number>();
    for (const model of this.#queues.models) {
      const waiting = await this.#call(this.#queues.waiting(model));
      waiting.forEach(({ wire }, index) => {
        positions.set(wire.id, index + 1);
        this.#show(model, wire, index + 1);
      });
    }
    for (const [jobId, { updater }] of this.#shown) {
      if (positions.has(jobId)) continue;
      updater.stop();
      this.#shown.delete(jobId);
    }
    return positions;
  }

  #show(model: string, wire: WireJob, position: number): void {
    const entry = this.#shown.get(wire.id);
    if (entry?.position === position) return;
    if (entry) {
      entry.position = position;
      entry.updater.push(position);
      return;
    }
    const job = fromWireJob(wire, this.options.messenger, this.options.logger);
    const updater = new CoalescingUpdater<number>({
      intervalMs: this.options.previewIntervalMs,
      send: async (shownPosition) => {
        // A worker may have taken the job since: its own status must not be overwritten by ours.
        const state = await this.#queues.queue(model).getJobState(bullJobId(wire.id));
        if (!WAITING_STATES.has(state)) return;
        await job.reply.update(queuedMessage(job, shownPosition));
      },
      retryAfterMs,
      onError: (error) => job.log.debug({ err: describeDiscordError(error) }, 'position edit failed (next one will catch up)'),
    });
    this.#shown.set(wire.id, { updater, position });
    updater.push(position);
  }
}
