/**
 * Distributed-mode figures for `npm run bench`, each measured in this run against a private
 * redis-server (AOF on, fsync per write, as the tests run it):
 *   - enqueue-to-start latency: BullMQ (Queue.add → Worker processor) vs the in-process queue
 *   - throughput of 2 workers vs 1 on this machine (real engines, tiny model, Discord stubbed out)
 *   - time from a worker's death (connection gone, lock not released) to its job restarting elsewhere
 */
import { Queue, Worker } from 'bullmq';
import pino from 'pino';
import { DiscordMessenger, type OutgoingMessage, type SentMessage } from '../../src/bot/delivery/discord-messenger.ts';
import { InProcessJobQueue } from '../../src/bot/jobs/job-queue.ts';
import { ResultOutbox, type OutboxEntry } from '../../src/bot/results/result-outbox.ts';
import { ResultStore, type ResultRecord } from '../../src/bot/results/result-store.ts';
import type { KeyValueStore } from '../../src/bot/settings/key-value-store.ts';
import { BULL_PREFIX, JOB_NAME, queueNameFor } from '../../src/bot/jobs/bullmq/keys.ts';
import { closeRedis, connectRedis, type RedisClient } from '../../src/bot/jobs/bullmq/redis-client.ts';
import type { WireJob } from '../../src/bot/jobs/bullmq/wire-job.ts';
import { createEngine } from '../../src/engine/engine.ts';
import type { Engine } from '../../src/engine/types.ts';
import { GpuWorker } from '../../src/worker/gpu-worker.ts';
import { startRedis } from '../../test/redis/redis-server.ts';

type Row = (label: string, value: string) => void;

const logger = pino({ level: 'silent' });
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const p95 = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.95))]!;

/** Discord stubbed out: the figures are about the queue and the engines, not about HTTP. */
class NullMessenger extends DiscordMessenger {
  #next = 1;
  constructor() {
    super(undefined as never, undefined as never, '0');
  }
  #sent(): SentMessage {
    return { id: String(this.#next++), channelId: '1' };
  }
  override async editOriginal(_token: string, _message: OutgoingMessage): Promise<SentMessage> {
    return this.#sent();
  }
  override async createMessage(): Promise<SentMessage> {
    return this.#sent();
  }
  override async editMessage(): Promise<SentMessage> {
    return this.#sent();
  }
  override async addReaction(): Promise<void> {}
  override close(): void {}
}

function memoryStore<Value>(): KeyValueStore<Value> {
  const map = new Map<string, Value>();
  return {
    get: async (key) => map.get(key),
    set: async (key, value) => void map.set(key, value),
    delete: async (key) => void map.delete(key),
  };
}

function wireJob(id: string, steps: number): WireJob {
  return {
    id,
    userId: `u${id}`,
    guildId: null,
    channelId: '1',
    model: 'tiny-sd',
    request: { prompt: 'a lighthouse', negativePrompt: '', seed: 1, steps, guidance: 7.5, width: 64, height: 64, count: 1 },
    reply: { kind: 'interaction', interactionToken: 'bench', channelId: '1', ownerId: 'u', createdAt: Date.now() },
    safety: { flagged: 'block', dmWithheld: false },
    createdAt: Date.now(),
  };
}

async function inProcessLatency(samples: number): Promise<number[]> {
  const queue = new InProcessJobQueue<{ id: string; userId: string }>({ concurrency: 1, maxQueuedPerUser: samples });
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const submittedAt = performance.now();
    await new Promise<void>((resolve) => {
      queue.submit({ id: String(i), userId: 'u' }, { run: async () => (latencies.push(performance.now() - submittedAt), resolve()), cancelledWhileQueued: () => resolve() });
    });
  }
  await queue.whenIdle();
  return latencies;
}

async function bullLatency(url: string, samples: number): Promise<number[]> {
  const name = 'bench-latency';
  const clients: RedisClient[] = [];
  const connect = async () => {
    const client = await connectRedis({ url, name, logger });
    clients.push(client);
    return client;
  };
  const queue = new Queue(name, { connection: (await connect()) as never, prefix: BULL_PREFIX });
  const started = new Map<string, () => void>();
  const worker = new Worker(name, async (job) => started.get(String(job.id))?.(), { connection: (await connect()) as never, prefix: BULL_PREFIX, concurrency: 1 });
  await worker.waitUntilReady();
  const latencies: number[] = [];
  for (let i = 0; i < samples + 3; i++) {
    const id = `job-${i}`;
    const submittedAt = performance.now();
    const start = new Promise<void>((resolve) => started.set(id, resolve));
    await queue.add(name, {}, { jobId: id, priority: 1, removeOnComplete: true });
    await start;
    if (i >= 3) latencies.push(performance.now() - submittedAt); // the first few warm up scripts and connections
  }
  await worker.close();
  await queue.close();
  for (const client of clients) await closeRedis(client);
  return latencies;
}

async function throughput(url: string, engines: Engine[], jobs: number, steps: number): Promise<number> {
  const redisClients: RedisClient[] = [];
  const connect = async (name: string) => {
    const client = await connectRedis({ url, name: `bench-${name}`, logger });
    redisClients.push(client);
    return client;
  };
  const admin = await connect('admin');
  await admin.flushAll();
  const queue = new Queue<WireJob>(queueNameFor('tiny-sd'), { connection: admin as never, prefix: BULL_PREFIX });
  for (let i = 0; i < jobs; i++) await queue.add(JOB_NAME, wireJob(`t${i}`, steps), { jobId: `job-t${i}`, priority: 1 });
  const startedAt = performance.now();
  const workers = await Promise.all(
    engines.map((engine, index) =>
      GpuWorker.start({
        id: `bench-${index}`,
        host: 'bench',
        engines: new Map([['tiny-sd', engine]]),
        connect,
        messenger: new NullMessenger(),
        results: new ResultStore(memoryStore<ResultRecord>()),
        outbox: new ResultOutbox(memoryStore<OutboxEntry>(), memoryStore<string[]>()),
        logger,
        concurrency: 1,
        lockDurationMs: 30_000,
        heartbeatMs: 5000,
        previewIntervalMs: 1500,
        uploadLimitBytes: 10 * 1024 * 1024,
      }),
    ),
  );
  while ((await queue.getCompletedCount()) < jobs) await new Promise((resolve) => setTimeout(resolve, 20));
  const elapsed = performance.now() - startedAt;
  for (const worker of workers) await worker.stop(0);
  await queue.close();
  for (const client of redisClients) await closeRedis(client);
  return (jobs / elapsed) * 1000;
}

/** A worker takes a job and "dies" (its connections drop, the lock is not released); how long until another runs it. */
async function deathToRestart(url: string, lockMs: number): Promise<number> {
  const name = 'bench-death';
  const clients: RedisClient[] = [];
  const connect = async () => {
    const client = await connectRedis({ url, name, logger });
    clients.push(client);
    return client;
  };
  const options = { prefix: BULL_PREFIX, lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 5 };
  const queue = new Queue(name, { connection: (await connect()) as never, prefix: BULL_PREFIX });
  const doomedClient = await connect();
  let taken!: () => void;
  const takenByDoomed = new Promise<void>((resolve) => (taken = resolve));
  const doomed = new Worker(name, () => (taken(), new Promise(() => undefined)), { connection: doomedClient as never, ...options });
  doomed.on('error', () => undefined);
  await doomed.waitUntilReady();
  await queue.add(name, {}, { jobId: 'job-death', priority: 1 });
  await takenByDoomed;
  const diedAt = performance.now();
  // A crash: no more lock renewals, nothing released. Its blocking duplicate is closed too.
  void doomed.close(true).catch(() => undefined);
  await doomedClient.disconnect().catch(() => undefined);
  let restarted!: () => void;
  const restartedElsewhere = new Promise<void>((resolve) => (restarted = resolve));
  const survivor = new Worker(name, async () => restarted(), { connection: (await connect()) as never, ...options });
  await restartedElsewhere;
  const ms = performance.now() - diedAt;
  await survivor.close();
  await queue.close();
  for (const client of clients) await closeRedis(client).catch(() => undefined);
  return ms;
}

export async function benchDistributed(row: Row, modelDir: string): Promise<void> {
  let redis;
  try {
    redis = await startRedis();
  } catch (error) {
    row('distributed mode', `skipped: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  try {
    const samples = 40;
    const local = await inProcessLatency(samples);
    const bull = await bullLatency(redis.url, samples);
    console.log(`\ndistributed mode (redis-server on loopback, AOF fsync always; ${samples} samples, median and p95)`);
    row('enqueue-to-start, in-process queue', `${median(local).toFixed(2)} ms (p95 ${p95(local).toFixed(2)})`);
    row('enqueue-to-start, BullMQ (Queue.add → Worker)', `${median(bull).toFixed(2)} ms (p95 ${p95(bull).toFixed(2)})  added ${(median(bull) - median(local)).toFixed(2)} ms`);

    const jobs = 8;
    const steps = 10;
    const engines = [await createEngine({ modelDir, provider: 'cpu' }), await createEngine({ modelDir, provider: 'cpu' })];
    for (const engine of engines) await engine.generate({ prompt: 'warm-up', steps: 2, width: 64, height: 64 }, { previewEvery: 0 });
    const one = await throughput(redis.url, engines.slice(0, 1), jobs, steps);
    const two = await throughput(redis.url, engines, jobs, steps);
    await Promise.all(engines.map((engine) => engine.close()));
    row(`throughput, 1 worker (${jobs} jobs × ${steps} steps, 64×64)`, `${one.toFixed(2)} jobs/s`);
    row('throughput, 2 workers on this machine', `${two.toFixed(2)} jobs/s  ratio ${(two / one).toFixed(2)}× one worker`);
    row('  thread settings', `onnxruntime defaults (intra-op threads = cores, ${(await import('node:os')).availableParallelism()} here), one engine per worker`);

    const lockMs = 5000;
    const restartMs = await deathToRestart(redis.url, lockMs);
    row(`worker death → job restarted elsewhere (lock ${lockMs} ms)`, `${(restartMs / 1000).toFixed(2)} s (bounded by lock + stalled-check interval, i.e. IMAGINE_WORKER_LOCK_MS × 2)`);
  } finally {
    await redis.stop();
  }
}
