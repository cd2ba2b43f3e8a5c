import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imagine, isResult, startWorld, stopAll, waitForResult, type World } from './harness.ts';

describe('npm start (the bot CLI) end to end', () => {
  let world: World | undefined;
  let child: ChildProcess | undefined;
  let output = '';

  beforeEach(async () => {
    world = await startWorld();
    output = '';
  });
  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    child = undefined;
    await stopAll(world, []);
    world = undefined;
  });

  async function startCli(w: World): Promise<void> {
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bot.ts'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DISCORD_TOKEN: w.fake.token,
        DISCORD_APPLICATION_ID: w.fake.applicationId,
        DISCORD_API_URL: w.fake.restUrl,
        // The default model, built on first use into a scratch models folder, as a fresh install does.
        IMAGINE_MODELS_DIR: w.storeDir,
        IMAGINE_PROVIDER: 'cpu',
        IMAGINE_STORE_URL: w.storeDir,
        IMAGINE_PREVIEW_INTERVAL_MS: '300',
        IMAGINE_SHUTDOWN_GRACE_MS: '300',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await w.fake.waitFor(() => output.includes('"msg":"bot ready"') || undefined, { timeoutMs: 60_000, message: `bot ready; output so far:\n${output}` });
  }

  const exited = () => new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));

  it('serves /imagine, logs JSON with job ids and no token, and on SIGTERM tells waiting users and exits 0', async () => {
    const w = world!;
    await startCli(w);
    const first = await imagine(w, w.alice, { prompt: 'a small boat', steps: 2 });
    await waitForResult(w, first, 60_000);

    const long = await imagine(w, w.alice, { prompt: 'a long job', steps: 60 });
    await w.fake.waitFor(() => (long.original()?.content ?? '').includes('Generating') || undefined, { timeoutMs: 30_000 });
    const waiting = await imagine(w, w.bob, { prompt: 'a waiting job', steps: 2 });
    await w.fake.waitFor(() => (waiting.original()?.content ?? '').startsWith('⏳') || undefined);

    const exit = exited();
    child?.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(waiting.original()?.content).toMatch(/^❌ Cancelled — the bot is shutting down/);
    expect(long.original()?.content).toMatch(/^❌ Cancelled — the bot is shutting down/);
    expect(isResult(first.original())).toBe(true);

    const lines = output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const jobLines = lines.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('job '));
    expect(jobLines.length).toBeGreaterThan(3);
    expect(jobLines.every((line) => typeof line.jobId === 'string')).toBe(true);
    expect(output).not.toContain(w.fake.token);
    // The result's parameters are in the store, and no job is left in the journal to resume.
    const db = new Database(path.join(w.storeDir, 'imagine.db'), { readonly: true });
    try {
      const results = db.prepare("SELECT value FROM kv WHERE namespace = 'results'").all() as Array<{ value: string }>;
      expect(results.map((row) => row.value).join()).toContain('a small boat');
      expect(db.prepare('SELECT id FROM jobs').all()).toEqual([]);
    } finally {
      db.close();
    }
  });
});
