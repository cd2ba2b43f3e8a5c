import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReplyTarget } from '../../src/bot/delivery/reply-target.ts';
import { SqliteJobJournal } from '../../src/bot/jobs/job-journal.ts';
import type { QueueTask } from '../../src/bot/jobs/job-queue.ts';
import type { Job } from '../../src/bot/jobs/job.ts';
import { JournaledJobQueue } from '../../src/bot/jobs/journaled-job-queue.ts';

const silent = pino({ level: 'silent' });

function job(id: string, userId: string, seed: number | null = 7): Job {
  const reply: ReplyTarget = {
    update: async () => undefined,
    deliver: async () => ({ id: 'm', channelId: 'c' }),
    messageId: undefined,
    record: () => ({ kind: 'channel', channelId: 'c', replyTo: 'r', messageId: `status-${id}` }),
  };
  return {
    id,
    userId,
    guildId: 'g',
    channelId: 'c',
    request: { prompt: id, negativePrompt: '', steps: 2, guidance: 7, width: 64, height: 64, count: 1, ...(seed === null ? {} : { seed }) },
    reply,
    createdAt: 1,
    log: silent,
  };
}

/** A task that runs until released, recording what happened to it. */
function controlledTask() {
  let release!: () => void;
  const finished = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const events: string[] = [];
  const task: QueueTask = {
    run: async () => {
      events.push('run');
      started();
      await finished;
    },
    cancelledWhileQueued: () => events.push('cancelled'),
  };
  return { task, release, running, events };
}

describe('JournaledJobQueue', () => {
  let folder: string;
  let db: Database.Database;
  beforeEach(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'imagine-journal-'));
    db = new Database(path.join(folder, 'journal.db'));
  });
  afterEach(() => {
    if (db.open) db.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('keeps accepted jobs in the journal until they finish: running first, then in acceptance order', async () => {
    const journal = new SqliteJobJournal(db);
    const queue = new JournaledJobQueue(journal, { concurrency: 1, maxQueuedPerUser: 5 });
    const a1 = controlledTask();
    const a2 = controlledTask();
    const b1 = controlledTask();
    expect(queue.submit(job('a1', 'A'), a1.task)).toEqual({ accepted: true, position: 0 });
    await a1.running;
    queue.submit(job('a2', 'A'), a2.task);
    queue.submit(job('b1', 'B'), b1.task);

    const states = () => journal.unfinished().map((entry) => `${entry.job.id}:${entry.state}`);
    expect(states()).toEqual(['a1:running', 'a2:queued', 'b1:queued']);
    // Starts are counted, so that a job that keeps taking the process down can be abandoned.
    expect(journal.unfinished().map((entry) => entry.starts)).toEqual([1, 0, 0]);
    // A new process reads the same records, the reply target's record included.
    expect(new SqliteJobJournal(db).unfinished()[1]?.job.reply).toEqual({ kind: 'channel', channelId: 'c', replyTo: 'r', messageId: 'status-a2' });

    queue.cancel('b1', 'test');
    await new Promise<void>((resolve) => queue.onChange(resolve));
    expect(b1.events).toEqual(['cancelled']);
    expect(states()).toEqual(['a1:running', 'a2:queued']);

    a1.release();
    await a2.running;
    expect(states()).toEqual(['a2:running']);
    a2.release();
    await queue.whenIdle();
    expect(states()).toEqual([]);
  });

  it('refuses a job it cannot journal ("unavailable"), and queues nothing', () => {
    const journal = new SqliteJobJournal(db);
    const errors: unknown[] = [];
    const queue = new JournaledJobQueue(journal, { concurrency: 1, maxQueuedPerUser: 1, onError: (error) => errors.push(error) });
    db.close();
    const { task, events } = controlledTask();
    expect(queue.submit(job('x', 'A'), task)).toEqual({ accepted: false, reason: 'unavailable' });
    expect(queue.snapshot()).toEqual({ running: [], queued: [] });
    expect(events).toEqual([]);
    expect(String(errors[0])).toMatch(/database connection is not open/);
  });

  it('refuses to journal a job without a seed: a rerun would make a different image', () => {
    const queue = new JournaledJobQueue(new SqliteJobJournal(db), { concurrency: 1, maxQueuedPerUser: 1, onError: () => undefined });
    expect(queue.submit(job('x', 'A', null), controlledTask().task)).toEqual({ accepted: false, reason: 'unavailable' });
  });

  it('resubmits journaled jobs outside the per-user limit', async () => {
    const journal = new SqliteJobJournal(db);
    const first = new JournaledJobQueue(journal, { concurrency: 1, maxQueuedPerUser: 1 });
    const blocker = controlledTask();
    first.submit(job('a1', 'A'), blocker.task);
    await blocker.running;
    first.submit(job('a2', 'A'), controlledTask().task);
    expect(first.submit(job('a3', 'A'), controlledTask().task)).toMatchObject({ accepted: false, reason: 'user-limit' });

    // "Restart": a fresh queue on the same journal takes both back although A is at the limit.
    const second = new JournaledJobQueue(journal, { concurrency: 1, maxQueuedPerUser: 1 });
    const ids = second.unfinished().map((entry) => entry.job.id);
    expect(ids).toEqual(['a1', 'a2']);
    const resumed = ids.map(() => controlledTask());
    ids.forEach((id, index) => expect(second.resubmit(job(id, 'A'), resumed[index]!.task).accepted).toBe(true));
    await resumed[0]!.running;
    expect(second.snapshot().queued.map((entry) => entry.id)).toEqual(['a2']);
    resumed.forEach((r) => r.release());
    blocker.release();
    await Promise.all([first.whenIdle(), second.whenIdle()]);
  });
});
