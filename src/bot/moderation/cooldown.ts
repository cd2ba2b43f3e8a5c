/**
 * A per-user wait between actions (🔁 rerolls). Kept in memory: a restart forgets it, which at worst
 * lets each member reroll once more.
 */
export class Cooldown {
  readonly #lastUse = new Map<string, number>();

  constructor(
    private readonly periodMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds `userId` must still wait, 0 when they may act now. */
  remainingMs(userId: string): number {
    const last = this.#lastUse.get(userId);
    if (last === undefined) return 0;
    return Math.max(0, last + this.periodMs - this.now());
  }

  record(userId: string): void {
    if (this.periodMs <= 0) return;
    const now = this.now();
    this.#lastUse.set(userId, now);
    // Forget users whose wait is over, so the map does not grow with every member who ever rerolled.
    for (const [user, at] of this.#lastUse) if (at + this.periodMs <= now) this.#lastUse.delete(user);
  }
}

export function cooldownRefusal(remainingMs: number): string {
  const seconds = Math.ceil(remainingMs / 1000);
  return `Please wait ${seconds} s before rerolling again.`;
}
