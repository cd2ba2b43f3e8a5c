import type { KeyValueStore } from '../settings/key-value-store.ts';

export type OutboxStatus = 'pending' | 'delivered' | 'undelivered';

/** What happened to one finished image, for its owner's /imagine-history. */
export interface OutboxEntry {
  jobId: string;
  ownerId: string;
  guildId: string | null;
  channelId: string;
  prompt: string;
  seed: number;
  createdAt: number;
  status: OutboxStatus;
  /** Where it was delivered. */
  delivered?: { route: 'reply' | 'dm'; channelId: string; messageId: string };
  /** Why it could not be delivered. */
  reason?: string;
  /** The PNGs (base64), kept until delivered, and for the owner to fetch when delivery failed. */
  images?: string[];
  /**
   * Pictures the channel's NSFW policy withheld (base64), kept only where the server lets owners have
   * them by DM (📩), and kept after delivery, since that is when the owner asks.
   */
  withheld?: string[];
}

/** How long an entry (and an undelivered image) is kept. */
export const OUTBOX_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** Entries listed per user. */
export const HISTORY_LENGTH = 10;

/**
 * Finished images from the moment they exist until they reach their owner: `keep` stores the PNGs
 * before the first delivery attempt, `delivered` drops them, `undelivered` keeps them for the owner to
 * fetch with /imagine-history. Works on any {@link KeyValueStore} (SQLite embedded, Redis distributed).
 */
export class ResultOutbox {
  /** Serialises index updates per user, so that two jobs finishing together do not drop an entry. */
  readonly #indexLocks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly entries: KeyValueStore<OutboxEntry>,
    private readonly index: KeyValueStore<string[]>,
  ) {}

  async keep(entry: Omit<OutboxEntry, 'status' | 'images' | 'withheld'>, pngs: readonly Buffer[], withheld: readonly Buffer[] = []): Promise<void> {
    const base64 = (images: readonly Buffer[]) => images.map((png) => png.toString('base64'));
    const kept: OutboxEntry = { ...entry, status: 'pending', images: base64(pngs), ...(withheld.length > 0 ? { withheld: base64(withheld) } : {}) };
    await this.entries.set(entry.jobId, kept, OUTBOX_RETENTION_MS);
    await this.#withIndex(entry.ownerId, (ids) => [entry.jobId, ...ids.filter((id) => id !== entry.jobId)].slice(0, HISTORY_LENGTH));
  }

  async delivered(jobId: string, where: NonNullable<OutboxEntry['delivered']>): Promise<void> {
    const entry = await this.entries.get(jobId);
    if (!entry) return;
    const { images: _dropped, reason: _reason, ...rest } = entry;
    await this.entries.set(jobId, { ...rest, status: 'delivered', delivered: where }, OUTBOX_RETENTION_MS);
  }

  async undelivered(jobId: string, reason: string): Promise<void> {
    const entry = await this.entries.get(jobId);
    if (!entry) return;
    await this.entries.set(jobId, { ...entry, status: 'undelivered', reason }, OUTBOX_RETENTION_MS);
  }

  get(jobId: string): Promise<OutboxEntry | undefined> {
    return this.entries.get(jobId);
  }

  /** The owner's latest entries, newest first. */
  async recent(ownerId: string): Promise<OutboxEntry[]> {
    const ids = (await this.index.get(ownerId)) ?? [];
    const entries = await Promise.all(ids.map((id) => this.entries.get(id)));
    return entries.filter((entry): entry is OutboxEntry => entry !== undefined);
  }

  async #withIndex(ownerId: string, change: (ids: string[]) => string[]): Promise<void> {
    const previous = this.#indexLocks.get(ownerId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(async () => {
      const ids = (await this.index.get(ownerId)) ?? [];
      await this.index.set(ownerId, change(ids), OUTBOX_RETENTION_MS);
    });
    this.#indexLocks.set(ownerId, next);
    try {
      await next;
    } finally {
      if (this.#indexLocks.get(ownerId) === next) this.#indexLocks.delete(ownerId);
    }
  }
}

export function outboxImages(entry: OutboxEntry): Buffer[] {
  return (entry.images ?? []).map((image) => Buffer.from(image, 'base64'));
}

export function withheldImages(entry: OutboxEntry): Buffer[] {
  return (entry.withheld ?? []).map((image) => Buffer.from(image, 'base64'));
}
