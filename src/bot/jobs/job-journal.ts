import type Database from 'better-sqlite3';
import type { ReplyTargetRecord } from '../delivery/reply-target.ts';
import type { BotRequest } from './imagine-request.ts';

/** Everything needed to run an accepted job again in a new process. */
export interface JournaledJob {
  id: string;
  userId: string;
  guildId: string | null;
  channelId: string;
  /** With its seed fixed at acceptance, so that a rerun makes the same image. */
  request: BotRequest & { seed: number };
  reply: ReplyTargetRecord;
  parentMessageId?: string;
  createdAt: number;
}

export type JournalState = 'queued' | 'running';

export interface JournalEntry {
  job: JournaledJob;
  state: JournalState;
}

/** The embedded queue's durable record of accepted, unfinished jobs. Writes are durable when they return. */
export interface JobJournal {
  add(job: JournaledJob): void;
  markRunning(jobId: string): void;
  /** The job is over (delivered, failed or cancelled, and its owner told). */
  remove(jobId: string): void;
  /** Unfinished jobs: those that were running first, then the waiting ones, each in acceptance order. */
  unfinished(): JournalEntry[];
}

export class SqliteJobJournal implements JobJournal {
  readonly #insert;
  readonly #setState;
  readonly #delete;
  readonly #selectAll;

  constructor(db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS jobs (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      state TEXT NOT NULL,
      record TEXT NOT NULL
    )`);
    this.#insert = db.prepare("INSERT INTO jobs (id, state, record) VALUES (?, 'queued', ?)");
    this.#setState = db.prepare('UPDATE jobs SET state = ? WHERE id = ?');
    this.#delete = db.prepare('DELETE FROM jobs WHERE id = ?');
    this.#selectAll = db.prepare("SELECT state, record FROM jobs ORDER BY state = 'running' DESC, seq");
  }

  add(job: JournaledJob): void {
    this.#insert.run(job.id, JSON.stringify(job));
  }

  markRunning(jobId: string): void {
    this.#setState.run('running', jobId);
  }

  remove(jobId: string): void {
    this.#delete.run(jobId);
  }

  unfinished(): JournalEntry[] {
    return (this.#selectAll.all() as Array<{ state: JournalState; record: string }>).map((row) => ({
      state: row.state,
      job: JSON.parse(row.record) as JournaledJob,
    }));
  }
}
