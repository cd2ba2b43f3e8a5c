import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeMessage } from '../../discord/fake-discord.ts';
import { openStoreBackend } from '../../../src/bot/settings/stores.ts';
import { embedField, imagine, isResult, startWorld, stopAll, useWorld, waitForResult, type World } from './harness.ts';
import { BotProcess } from './cli-process.ts';

interface JournalRow {
  id: string;
  state: string;
  record: string;
}

function readJournal(world: World): Array<{ id: string; state: string; prompt: string; seed: number }> {
  const db = new Database(path.join(world.storeDir, 'imagine.db'), { readonly: true });
  try {
    return (db.prepare('SELECT id, state, record FROM jobs ORDER BY seq').all() as JournalRow[]).map((row) => {
      const record = JSON.parse(row.record) as { request: { prompt: string; seed: number } };
      return { id: row.id, state: row.state, prompt: record.request.prompt, seed: record.request.seed };
    });
  } finally {
    db.close();
  }
}

/** Makes a journaled job look accepted `ageMs` ago, as if the bot had been down that long. */
function ageJob(world: World, jobId: string, ageMs: number): void {
  const db = new Database(path.join(world.storeDir, 'imagine.db'));
  try {
    const row = db.prepare('SELECT record FROM jobs WHERE id = ?').get(jobId) as { record: string };
    const record = JSON.parse(row.record) as { createdAt: number; reply: { createdAt: number } };
    record.createdAt -= ageMs;
    record.reply.createdAt -= ageMs;
    db.prepare('UPDATE jobs SET record = ? WHERE id = ?').run(JSON.stringify(record), jobId);
  } finally {
    db.close();
  }
}

const contentsOf = (messages: Array<FakeMessage | undefined>) => messages.map((m) => m?.content ?? '');

describe('embedded mode survives kill -9 (journaled queue)', () => {
  let world: World | undefined;
  const bots: BotProcess[] = [];
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => {
    for (const bot of bots.splice(0)) await bot.kill('SIGKILL');
    await stopAll(world, []);
    world = undefined;
  });

  it('resumes running and queued jobs after a crash, says so, delivers each once (same seed), and can cancel them', async () => {
    const w = world!;
    const first = await BotProcess.start(w);
    bots.push(first);

    const running = await imagine(w, w.alice, { prompt: 'a lighthouse in a storm', steps: 40 });
    await w.fake.waitFor(() => (running.original()?.content ?? '').includes('Generating') || undefined, { timeoutMs: 60_000 });
    // One at a time: interactions are handled concurrently, and the journal's order is acceptance order.
    const queue = async (userId: string, prompt: string) => {
      const handle = await imagine(w, userId, { prompt, steps: 2 });
      await w.fake.waitFor(() => (handle.original()?.content ?? '').startsWith('⏳') || undefined, { timeoutMs: 30_000 });
      return handle;
    };
    const aliceQueued = await queue(w.alice, 'a red kite');
    const bobQueued = await queue(w.bob, 'a blue bicycle');
    const toCancel = await queue(w.alice, 'a paper crane');

    expect(await first.kill('SIGKILL')).toBe(null);
    const journal = readJournal(w);
    expect(journal.map((job) => [job.prompt, job.state]), JSON.stringify(journal)).toEqual([
      ['a lighthouse in a storm', 'running'],
      ['a red kite', 'queued'],
      ['a blue bicycle', 'queued'],
      ['a paper crane', 'queued'],
    ]);
    const byPrompt = new Map(journal.map((job) => [job.prompt, job]));
    // Bob's job waited out its interaction token while the bot was down: it must come by the channel.
    ageJob(w, byPrompt.get('a blue bicycle')!.id, 20 * 60 * 1000);
    bobQueued.expire();

    const second = await BotProcess.start(w);
    bots.push(second);
    expect(second.logLines().find((line) => line.msg === 'bot ready')?.resumedJobs).toBe(4);

    const cancelId = byPrompt.get('a paper crane')!.id;
    const pressed = await w.fake.pressButton({
      userId: w.alice,
      channelId: w.channel.id,
      messageId: toCancel.original()!.id,
      customId: `imagine:cancel:${cancelId}`,
    });
    await pressed.waitForResponse();
    await w.fake.waitFor(() => (toCancel.original()?.content ?? '').startsWith('❌ Cancelled') || undefined, { timeoutMs: 30_000 });

    const runningResult = await waitForResult(w, running, 120_000);
    const aliceResult = await waitForResult(w, aliceQueued, 60_000);
    const bobResult = await w.fake.waitFor(
      () => w.fake.messages(w.channel.id).find((m) => isResult(m) && m.content.includes(`<@${w.bob}>`)),
      { timeoutMs: 60_000, message: "bob's result never reached the channel" },
    );

    // The job that was running was rerun from the start with its journaled seed: the same image.
    expect(embedField(runningResult, 'Seed')).toBe(String(byPrompt.get('a lighthouse in a storm')!.seed));
    expect(embedField(aliceResult, 'Seed')).toBe(String(byPrompt.get('a red kite')!.seed));
    expect(embedField(bobResult, 'Seed')).toBe(String(byPrompt.get('a blue bicycle')!.seed));

    // Their messages said they were resumed.
    for (const handle of [running, aliceQueued, toCancel]) {
      const shown = contentsOf(handle.edits.filter((edit) => edit.ok).map((edit) => edit.message));
      expect(shown.some((content) => content.includes('Resumed after a restart'))).toBe(true);
    }

    // Delivered exactly once: three results in the channel, one per job, and no job left to resume.
    const results = w.fake.messages(w.channel.id).filter(isResult);
    expect(results.map((m) => embedField(m, 'Seed')).sort()).toEqual(
      ['a lighthouse in a storm', 'a red kite', 'a blue bicycle'].map((p) => String(byPrompt.get(p)!.seed)).sort(),
    );
    await w.fake.waitFor(() => readJournal(w).length === 0 || undefined, { timeoutMs: 10_000, message: 'journal never emptied' });
    expect(isResult(toCancel.original())).toBe(false);
  }, 300_000);
});

describe('a job that keeps taking the bot down', () => {
  const scene = useWorld();

  it('is abandoned after three starts, with a message to its owner, instead of looping forever', async () => {
    const w = scene.world;
    // Create the database, then journal a job as three crashed runs would have left it.
    await openStoreBackend(w.storeDir).close();
    const asked = w.fake.postMessage({ userId: w.alice, channelId: w.channel.id, content: 'reroll please' });
    const record = {
      id: 'c0ffee01',
      userId: w.alice,
      guildId: w.guild.id,
      channelId: w.channel.id,
      request: { prompt: 'a crashing job', negativePrompt: '', seed: 5, steps: 2, guidance: 7, width: 64, height: 64, count: 1 },
      reply: { kind: 'channel', channelId: w.channel.id, replyTo: asked.id },
      createdAt: Date.now(),
    };
    const db = new Database(path.join(w.storeDir, 'imagine.db'));
    db.prepare("INSERT INTO jobs (id, state, starts, record) VALUES (?, 'running', 3, ?)").run(record.id, JSON.stringify(record));
    db.close();

    const running = await scene.startBot();
    const told = await w.fake.waitFor(() => w.fake.messages(w.channel.id).find((m) => m.content.includes('will not be run again')), {
      timeoutMs: 10_000,
    });
    expect(told.content).toContain('This job was running each of the last 3 times the bot stopped');
    expect(told.message_reference?.message_id).toBe(asked.id);
    expect(running.engine.requests).toEqual([]);
    expect(readJournal(w)).toEqual([]);
  });
});
