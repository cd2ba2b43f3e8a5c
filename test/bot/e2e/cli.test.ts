import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BotProcess } from './cli-process.ts';
import { imagine, isResult, startWorld, stopAll, waitForResult, type World } from './harness.ts';

describe('npm start (the bot CLI) end to end', () => {
  let world: World | undefined;
  let bot: BotProcess | undefined;

  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => {
    await bot?.kill('SIGKILL');
    bot = undefined;
    await stopAll(world, []);
    world = undefined;
  });

  it('serves /imagine, logs JSON with job ids and no token, and on SIGTERM tells waiting users and exits 0', async () => {
    const w = world!;
    bot = await BotProcess.start(w);
    const first = await imagine(w, w.alice, { prompt: 'a small boat', steps: 2 });
    await waitForResult(w, first, 60_000);

    const long = await imagine(w, w.alice, { prompt: 'a long job', steps: 60 });
    await w.fake.waitFor(() => (long.original()?.content ?? '').includes('Generating') || undefined, { timeoutMs: 30_000 });
    const waiting = await imagine(w, w.bob, { prompt: 'a waiting job', steps: 2 });
    await w.fake.waitFor(() => (waiting.original()?.content ?? '').startsWith('⏳') || undefined);

    expect(await bot.kill('SIGTERM')).toBe(0);
    expect(waiting.original()?.content).toMatch(/^❌ Cancelled — the bot is shutting down/);
    expect(long.original()?.content).toMatch(/^❌ Cancelled — the bot is shutting down/);
    expect(isResult(first.original())).toBe(true);

    const lines = bot.logLines();
    const jobLines = lines.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('job '));
    expect(jobLines.length).toBeGreaterThan(3);
    expect(jobLines.every((line) => typeof line.jobId === 'string')).toBe(true);
    expect(bot.output).not.toContain(w.fake.token);
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
