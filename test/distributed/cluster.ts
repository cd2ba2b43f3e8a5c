import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { ensureTinyModel } from '../../src/models/default-model.ts';
import { imagine, isResult, startWorld, stopAll, type World } from '../bot/e2e/harness.ts';
import type { InteractionHandle } from '../discord/fake-discord.ts';
import { startRedis, type TestRedis } from '../redis/redis-server.ts';

/**
 * The distributed mode as an operator runs it, in real processes: a private redis-server (AOF on),
 * the loopback fake Discord, `npm start` as the gateway and `npm run worker` as workers, on the
 * tiny model. Processes are watched through their JSON logs; tests wait for log lines and Discord
 * state, never for time.
 */
export interface LogLine {
  msg?: string;
  jobId?: string;
  workerId?: string;
  time?: number;
  [key: string]: unknown;
}

export class Proc {
  readonly lines: LogLine[] = [];
  output = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output += text;
      if (process.env.E2E_LOG) process.stderr.write(`[${name}] ${text}`);
      partial += text;
      const complete = partial.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) {
        if (!line.startsWith('{')) continue;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          // A line that is not JSON (e.g. a Node warning) is kept in `output` only.
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  logged(msg: string, jobId?: string): LogLine[] {
    return this.lines.filter((line) => line.msg === msg && (jobId === undefined || line.jobId === jobId));
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }
}

export interface ClusterOptions {
  maxQueuedPerUser?: number;
  /** How long a dead worker's job stays locked before another worker reruns it. */
  lockMs?: number;
  graceMs?: number;
}

export class Cluster {
  readonly procs: Proc[] = [];

  constructor(
    readonly world: World,
    readonly redis: TestRedis,
    readonly modelsDir: string,
    readonly options: ClusterOptions,
  ) {}

  #env(extra: Record<string, string>): NodeJS.ProcessEnv {
    const { world } = this;
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DISCORD_TOKEN: world.fake.token,
      DISCORD_APPLICATION_ID: world.fake.applicationId,
      DISCORD_API_URL: world.fake.restUrl,
      IMAGINE_MODELS_DIR: this.modelsDir,
      IMAGINE_MODEL: path.join(this.modelsDir, 'tiny-sd'),
      IMAGINE_PROVIDER: 'cpu',
      // The test models have no safety checker; an operator running them would vouch for them like this.
      IMAGINE_SFW_MODELS: 'tiny-sd,tiny-xl',
      IMAGINE_QUEUE_URL: this.redis.url,
      IMAGINE_PREVIEW_INTERVAL_MS: '300',
      IMAGINE_MAX_QUEUED_PER_USER: String(this.options.maxQueuedPerUser ?? 2),
      IMAGINE_SHUTDOWN_GRACE_MS: String(this.options.graceMs ?? 1000),
      LOG_LEVEL: 'debug',
      ...extra,
    };
  }

  #spawn(name: string, script: string, env: Record<string, string>): Proc {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { env: this.#env(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new Proc(name, child);
    this.procs.push(proc);
    return proc;
  }

  async startWorker(id: string, env: Record<string, string> = {}): Promise<Proc> {
    const proc = this.#spawn(id, 'src/cli/worker.ts', {
      IMAGINE_WORKER_ID: id,
      // Long enough by default that a loaded machine's late lock renewals do not look like a dead worker.
      IMAGINE_WORKER_LOCK_MS: String(this.options.lockMs ?? 15_000),
      IMAGINE_WORKER_HEARTBEAT_MS: '500',
      ...env,
    });
    await this.waitForLog(proc, 'worker ready', 120_000);
    return proc;
  }

  async startGateway(name = 'gateway'): Promise<Proc> {
    const proc = this.#spawn(name, 'src/cli/bot.ts', {});
    await this.waitForLog(proc, 'bot ready', 120_000);
    return proc;
  }

  waitForLog(proc: Proc, msg: string, timeoutMs = 60_000, jobId?: string): Promise<LogLine> {
    return this.world.fake.waitFor(
      () => {
        if (!proc.alive && proc.logged(msg, jobId).length === 0) throw new Error(`${proc.name} exited before logging "${msg}":\n${proc.output.slice(-3000)}`);
        return proc.logged(msg, jobId)[0];
      },
      { timeoutMs, message: `${proc.name} to log "${msg}"${jobId ? ` for job ${jobId}` : ''}; output so far:\n${proc.output.slice(-3000)}` },
    );
  }

  /** Log lines with this message from every process, in time order. */
  logged(msg: string, jobId?: string): Array<LogLine & { proc: string }> {
    return this.procs
      .flatMap((proc) => proc.logged(msg, jobId).map((line) => ({ ...line, proc: proc.name })))
      .sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
  }

  imagine(userId: string, values: Record<string, string | number | undefined>): Promise<InteractionHandle> {
    return imagine(this.world, userId, values);
  }

  /**
   * Sends /imagine and waits until the gateway has queued it (its reply shows the job's Cancel
   * button), so that jobs sent one after another are queued in that order.
   */
  async submit(userId: string, values: Record<string, string | number | undefined>): Promise<{ interaction: InteractionHandle; jobId: string }> {
    const interaction = await this.imagine(userId, values);
    return { interaction, jobId: await this.jobIdOf(interaction) };
  }

  /** The job id the gateway gave an interaction (from the Cancel button on its reply). */
  jobIdOf(interaction: InteractionHandle, timeoutMs = 30_000): Promise<string> {
    return this.world.fake.waitFor(
      () => {
        const rows = interaction.original()?.components as Array<{ components?: Array<{ custom_id?: string }> }> | undefined;
        const id = rows?.[0]?.components?.[0]?.custom_id;
        return id?.startsWith('imagine:cancel:') ? id.slice('imagine:cancel:'.length) : undefined;
      },
      { timeoutMs, message: 'the job id on the reply' },
    );
  }

  /**
   * Waits until every job's worker has logged its delivery (which comes just after the final edit
   * lands, once the result is stored), then returns how many times each was logged.
   */
  async deliveries(jobIds: readonly string[], timeoutMs = 180_000): Promise<number[]> {
    for (const jobId of jobIds) {
      await this.world.fake.waitFor(() => this.logged('job delivered', jobId).length > 0 || undefined, { timeoutMs, message: `job ${jobId} logged as delivered` });
    }
    return jobIds.map((jobId) => this.logged('job delivered', jobId).length);
  }

  /** Every message in the channel that shows a finished image. */
  results(): ReturnType<World['fake']['messages']> {
    return this.world.fake.messages(this.world.channel.id).filter((message) => isResult(message));
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((proc) => proc.kill('SIGKILL')));
  }
}

/** One cluster per test (Redis, fake Discord, processes), torn down afterwards whatever happened. */
export function useCluster(options: ClusterOptions = {}): { readonly cluster: Cluster } {
  let current: Cluster | undefined;
  let modelsDir: string | undefined;
  beforeEach(async () => {
    modelsDir ??= await mkdtemp(path.join(tmpdir(), 'imagine-cluster-models-'));
    // Built once here, so that two workers starting together never build the same folder.
    await ensureTinyModel({ modelsDir });
    const redis = await startRedis();
    current = new Cluster(await startWorld(), redis, modelsDir, options);
  });
  afterEach(async () => {
    const cluster = current;
    current = undefined;
    if (!cluster) return;
    await cluster.stop();
    await stopAll(cluster.world, []);
    await cluster.redis.stop();
  });
  afterAll(async () => {
    if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
  });
  return {
    get cluster() {
      if (!current) throw new Error('useCluster: no cluster outside a test');
      return current;
    },
  };
}
