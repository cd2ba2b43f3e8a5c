import { UnrecoverableError, WaitingError, Worker, type Job as BullJob } from 'bullmq';
import type { Logger } from 'pino';
import type { DiscordMessenger } from '../bot/delivery/discord-messenger.ts';
import { isCancelReason, type CancelReason, type Job } from '../bot/jobs/job.ts';
import { DeliveryMarker } from '../bot/jobs/bullmq/delivery-marker.ts';
import { BULL_PREFIX, bullJobId, queueNameFor, RedisKeys } from '../bot/jobs/bullmq/keys.ts';
import { closeRedis, type RedisClient } from '../bot/jobs/bullmq/redis-client.ts';
import { UserLedger } from '../bot/jobs/bullmq/user-ledger.ts';
import { fromWireJob, wireJobSchema, type WireJob } from '../bot/jobs/bullmq/wire-job.ts';
import { WorkerRegistry, type WorkerStatus } from '../bot/jobs/bullmq/worker-registry.ts';
import type { ResultOutbox } from '../bot/results/result-outbox.ts';
import type { InitImageStore } from '../bot/attachments/init-image-store.ts';
import type { ResultStore } from '../bot/results/result-store.ts';
import type { Engine } from '../engine/types.ts';
import { JobRunner, type RunEnd, type StopReason } from './job-runner.ts';

export interface GpuWorkerOptions {
  id: string;
  host: string;
  /** Model name → the engine serving it. */
  engines: ReadonlyMap<string, Engine>;
  /** Opens a new Redis connection (each BullMQ worker blocks on its own). */
  connect: (name: string) => Promise<RedisClient>;
  messenger: DiscordMessenger;
  results: ResultStore;
  outbox: ResultOutbox;
  /** Starting images of img2img jobs, kept by the gateway. */
  images?: InitImageStore;
  logger: Logger;
  /** Jobs run at once per model (one per engine in the model's pool). */
  concurrency: number;
  /** How long a job's lock lasts without renewal: a dead worker's job is rerun elsewhere after this. */
  lockDurationMs: number;
  heartbeatMs: number;
  previewIntervalMs: number;
  uploadLimitBytes: number;
}

interface RunningJob {
  job: Job;
  model: string;
  bullWorker: Worker<WireJob>;
  step?: number;
  totalSteps?: number;
}

/**
 * A worker process of the distributed mode: takes jobs from the BullMQ queue of each model it
 * serves, runs them on its engines, and edits the users' Discord messages itself. It advertises
 * itself and its models through a heartbeat, and hears cancels through Redis pub/sub.
 */
export class GpuWorker {
  readonly #running = new Map<string, RunningJob>();
  readonly #stopReasons = new Map<string, StopReason>();
  readonly #bullWorkers: { worker: Worker<WireJob>; client: RedisClient }[] = [];
  readonly #startedAt = Date.now();
  #redis!: RedisClient;
  #subscriber!: RedisClient;
  #ledger!: UserLedger;
  #registry!: WorkerRegistry;
  #runner!: JobRunner;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(private readonly options: GpuWorkerOptions) {}

  static async start(options: GpuWorkerOptions): Promise<GpuWorker> {
    const worker = new GpuWorker(options);
    await worker.#start();
    return worker;
  }

  get id(): string {
    return this.options.id;
  }

  async #start(): Promise<void> {
    const { options } = this;
    this.#redis = await options.connect('worker');
    this.#ledger = new UserLedger(this.#redis);
    this.#registry = new WorkerRegistry(this.#redis);
    this.#runner = new JobRunner({
      messenger: options.messenger,
      results: options.results,
      outbox: options.outbox,
      marker: new DeliveryMarker(this.#redis, options.id),
      logger: options.logger,
      previewIntervalMs: options.previewIntervalMs,
      uploadLimitBytes: options.uploadLimitBytes,
      ...(options.images ? { images: options.images } : {}),
    });
    this.#subscriber = await options.connect('worker-cancels');
    await this.#subscriber.subscribe(RedisKeys.cancelChannel, (jobId) => void this.#onCancel(jobId));
    for (const engine of options.engines.values()) await this.#registry.registerModel(engine.info.model);
    await this.#beat();
    this.#heartbeat = setInterval(() => void this.#beat(), options.heartbeatMs);

    for (const model of options.engines.keys()) {
      const client = await options.connect(`worker-${model}`);
      const bullWorker: Worker<WireJob> = new Worker<WireJob>(
        queueNameFor(model),
        (job, token, signal) => this.#process(model, bullWorker, job, token, signal),
        {
          connection: client as never,
          prefix: BULL_PREFIX,
          concurrency: options.concurrency,
          lockDuration: options.lockDurationMs,
          stalledInterval: options.lockDurationMs,
          // A job whose workers keep dying is failed after this many reruns rather than looping forever.
          maxStalledCount: 5,
          // After Redis comes back, fetch again within seconds (BullMQ's default waits 15 s).
          runRetryDelay: 2000,
        },
      );
      bullWorker.on('error', (error) => options.logger.debug({ err: error.message, model }, 'BullMQ worker error'));
      bullWorker.on('failed', (job, error) => options.logger.error({ jobId: job?.data?.id, err: error.message }, 'job failed in the queue'));
      this.#bullWorkers.push({ worker: bullWorker, client });
    }
    options.logger.info({ workerId: options.id, models: [...options.engines.keys()] }, 'worker ready');
  }

  async #process(model: string, bullWorker: Worker<WireJob>, bullJob: BullJob<WireJob>, token: string | undefined, signal: AbortSignal | undefined): Promise<RunEnd> {
    const { logger, messenger, engines } = this.options;
    const parsed = wireJobSchema.safeParse(bullJob.data);
    if (!parsed.success) {
      logger.error({ bullJobId: bullJob.id, issues: parsed.error.issues.slice(0, 3) }, 'job data is not a job this worker understands');
      throw new UnrecoverableError('invalid job data');
    }
    const wire = parsed.data;
    const engine = engines.get(model);
    if (!engine) throw new UnrecoverableError(`no engine for model ${model}`);
    const job = fromWireJob(wire, messenger, logger);
    job.log.info({ workerId: this.options.id, attempt: bullJob.attemptsMade + 1, model }, 'job taken');
    const running: RunningJob = { job, model, bullWorker };
    this.#running.set(wire.id, running);
    try {
      const flagged = await this.#cancelRequest(wire.id);
      if (flagged) {
        job.log.info({ reason: flagged }, 'job cancelled before it started');
        await this.#runner.cancelled(job, flagged);
        await this.#settled(wire);
        return 'cancelled';
      }
      await this.#ledger.markRunning(wire.userId, wire.id);
      void this.#beat();
      const end = await this.#runner.run(job, engine, signal ?? new AbortController().signal, () => this.#stopReasons.get(wire.id), (progress) => {
        running.step = progress.step;
        running.totalSteps = progress.totalSteps;
      });
      if (end === 'handed-back') {
        await this.#ledger.markWaiting(wire.userId, wire.id);
        await bullJob.moveToWait(token);
        throw new WaitingError();
      }
      if (end !== 'abandoned') await this.#settled(wire);
      return end;
    } finally {
      this.#running.delete(wire.id);
      this.#stopReasons.delete(wire.id);
      void this.#beat();
    }
  }

  /** The job is over for good: it no longer counts for its user, and its cancel flag is spent. */
  async #settled(wire: WireJob): Promise<void> {
    await this.#ledger.forget(wire.userId, wire.id);
    await this.#redis.del(RedisKeys.cancel(wire.id));
  }

  async #cancelRequest(jobId: string): Promise<CancelReason | undefined> {
    const text = await this.#redis.get(RedisKeys.cancel(jobId));
    if (!text) return undefined;
    try {
      const reason: unknown = JSON.parse(text);
      return isCancelReason(reason) ? reason : undefined;
    } catch {
      return undefined;
    }
  }

  async #onCancel(jobId: string): Promise<void> {
    const running = this.#running.get(jobId);
    if (!running) return;
    const reason = await this.#cancelRequest(jobId).catch(() => undefined);
    if (!reason) return;
    this.#stopReasons.set(jobId, reason);
    running.bullWorker.cancelJob(bullJobId(jobId), 'cancelled');
  }

  async #beat(): Promise<void> {
    const { options } = this;
    const first = [...this.#running.values()][0];
    const status: WorkerStatus = {
      id: options.id,
      host: options.host,
      models: [...options.engines.keys()],
      provider: [...options.engines.values()][0]?.info.provider ?? 'cpu',
      startedAt: this.#startedAt,
      running: first
        ? {
            jobId: first.job.id,
            userId: first.job.userId,
            guildId: first.job.guildId,
            prompt: first.job.request.prompt,
            model: first.model,
            ...(first.step !== undefined && first.totalSteps !== undefined ? { step: first.step, totalSteps: first.totalSteps } : {}),
          }
        : null,
    };
    await this.#registry
      .beat(status, options.heartbeatMs * 3)
      .catch((error: unknown) => options.logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'heartbeat failed'));
  }

  /**
   * SIGTERM: takes no new job, lets running ones finish within `graceMs`, then hands them back to the
   * queue (another worker runs them from the start, same seed) instead of cancelling them.
   */
  stop(graceMs: number): Promise<void> {
    this.#stopping ??= this.#stop(graceMs);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    const { logger } = this.options;
    logger.info({ graceMs, running: this.#running.size }, 'worker stopping');
    const closing = Promise.all(this.#bullWorkers.map(({ worker }) => worker.close()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => (timer = setTimeout(() => resolve('grace-over'), graceMs)));
    const outcome = await Promise.race([closing.then(() => 'closed' as const), graceOver]);
    clearTimeout(timer);
    if (outcome === 'grace-over') {
      for (const [jobId, running] of this.#running) {
        this.#stopReasons.set(jobId, { kind: 'hand-back' });
        running.bullWorker.cancelJob(bullJobId(jobId), 'worker shutting down');
      }
      await closing;
    }
    clearInterval(this.#heartbeat);
    await this.#registry.leave(this.options.id).catch(() => undefined);
    for (const { client } of this.#bullWorkers) await closeRedis(client);
    await closeRedis(this.#subscriber);
    await closeRedis(this.#redis);
    logger.info('worker stopped');
  }
}
