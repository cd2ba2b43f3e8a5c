import type { Queue, QueueAddOptions } from 'p-queue';

/** p-queue's task thunk (not exported by p-queue itself). */
export type RunFunction = () => Promise<unknown>;

/** p-queue `add()` options understood by {@link FairQueue}: whose job it is. */
export type FairQueueOptions = QueueAddOptions & { userId?: string };

interface Entry {
  run: RunFunction;
  id: string | undefined;
  userId: string;
  round: number;
  sequence: number;
}

/**
 * A p-queue `queueClass` that serves users round-robin: each user's n-th waiting job belongs to round
 * n (counted from the round being served when they joined), and rounds run in order, ties by arrival.
 * So when A queues three jobs and then B one, B's job runs right after A's first.
 * Jobs without a `userId` share one anonymous user.
 */
export class FairQueue implements Queue<RunFunction, FairQueueOptions> {
  #entries: Entry[] = [];
  #sequence = 0;
  /** The round of the job most recently handed out. */
  #currentRound = 0;
  /** Last round each user was served in, while it still matters (≥ the current round). */
  #lastServed = new Map<string, number>();

  get size(): number {
    return this.#entries.length;
  }

  enqueue(run: RunFunction, options?: Partial<FairQueueOptions>): void {
    const userId = options?.userId ?? '';
    let lastRound = this.#lastServed.get(userId) ?? 0;
    for (const entry of this.#entries) if (entry.userId === userId) lastRound = Math.max(lastRound, entry.round);
    const round = Math.max(lastRound + 1, this.#currentRound);
    const entry: Entry = { run, id: options?.id, userId, round, sequence: this.#sequence++ };
    // Entries stay sorted by (round, sequence); insertion is linear, which is fine for bot-sized queues.
    const index = this.#entries.findIndex((other) => other.round > round);
    if (index === -1) this.#entries.push(entry);
    else this.#entries.splice(index, 0, entry);
  }

  dequeue(): RunFunction | undefined {
    const entry = this.#entries.shift();
    if (!entry) return undefined;
    this.#currentRound = entry.round;
    this.#lastServed.set(entry.userId, entry.round);
    // A user last served before the current round gains nothing from the record: drop it.
    for (const [userId, round] of this.#lastServed) if (round < this.#currentRound) this.#lastServed.delete(userId);
    return entry.run;
  }

  filter(options: Readonly<Partial<FairQueueOptions>>): RunFunction[] {
    return this.#entries
      .filter((entry) => options.userId === undefined || entry.userId === options.userId)
      .map((entry) => entry.run);
  }

  setPriority(id: string): void {
    throw new Error(`FairQueue orders jobs by user, not priority (job ${id})`);
  }

  remove(id: string): void {
    const index = this.#entries.findIndex((entry) => entry.id === id);
    if (index !== -1) this.#entries.splice(index, 1);
  }

  /** Waiting jobs in the order they will run. */
  order(): Array<{ id: string | undefined; userId: string }> {
    return this.#entries.map(({ id, userId }) => ({ id, userId }));
  }
}
