import type Database from 'better-sqlite3';
import type { ReplyTargetRecord } from '../delivery/reply-target.ts';
import type { BotRequest } from './imagine-request.ts';
import type { SafetyHandling } from '../moderation/nsfw-policy.ts';

/** Everything needed to run an accepted job again in a new process. */
export interface JournaledJob {
  id: string;
  userId: string;
  guildId: string | null;
  channelId: string;
  /** With its seed fixed at acceptance, so that a rerun makes the same image. */
  request: BotRequest & { seed: number };
  reply: ReplyTargetRecord;
  /** Absent in records from before the NSFW policy: resumed with the strictest handling. */
  safety?: SafetyHandling;
  parentMessageId?: string;
  createdAt: number;
}

export type JournalState = 'queued' | 'running';

export interface JournalEntry {
  job: JournaledJob;
  state: JournalState;
  /** How many times it was started: a job that keeps taking the process down must not loop forever. */
  starts: number;
}

/** The embedded queue's durable record of accepted, unfinished jobs. Writes are durable when they return. */
export interface JobJournal {
  add(job: JournaledJob): void;
  /** Marks the job running and counts the start. */
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
      starts INTEGER NOT NULL DEFAULT 0,
      record TEXT NOT NULL
    )`);
    this.#insert = db.prepare("INSERT INTO jobs (id, state, record) VALUES (?, 'queued', ?)");
    this.#setState = db.prepare("UPDATE jobs SET state = 'running', starts = starts + 1 WHERE id = ?");
    this.#delete = db.prepare('DELETE FROM jobs WHERE id = ?');
    this.#selectAll = db.prepare("SELECT state, starts, record FROM jobs ORDER BY state = 'running' DESC, seq");
  }

  add(job: JournaledJob): void {
    this.#insert.run(job.id, JSON.stringify(job));
  }

  markRunning(jobId: string): void {
    this.#setState.run(jobId);
  }

  remove(jobId: string): void {
    this.#delete.run(jobId);
  }

  unfinished(): JournalEntry[] {
    return (this.#selectAll.all() as Array<{ state: JournalState; starts: number; record: string }>).map((row) => ({
      state: row.state,
      starts: row.starts,
      job: JSON.parse(row.record) as JournaledJob,
    }));
  }
}
