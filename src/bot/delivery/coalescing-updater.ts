export interface CoalescingUpdaterOptions<Update> {
  /** Least time between the starts of two sends. */
  intervalMs: number;
  send(update: Update): Promise<void>;
  /** How long the server asked us to wait after this failure (a 429), if it did. */
  retryAfterMs?(error: unknown): number | undefined;
  onError?(error: unknown): void;
  /** How long `finish` waits for a send in flight before delivering without it. Default 1000. */
  settleMs?: number;
}

/**
 * Sends a stream of status updates (previews, queue positions) at most once per interval, one at a
 * time, keeping only the newest unsent update: a slow or rate-limited send delays the next preview,
 * never stacks them up. `finish` ends the stream and gets the final message through without waiting
 * behind it.
 */
export class CoalescingUpdater<Update> {
  #pending: Update | undefined;
  #hasPending = false;
  /** Resolves to whether the send succeeded; never rejects. */
  #inFlight: Promise<boolean> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #nextSendAt = 0;
  #finished = false;

  constructor(private readonly options: CoalescingUpdaterOptions<Update>) {}

  /** Offers an update; it replaces any update not yet sent. */
  push(update: Update): void {
    if (this.#finished) return;
    this.#pending = update;
    this.#hasPending = true;
    this.#pump();
  }

  /**
   * Stops sending updates, drops the unsent one and runs `deliver`: once the send in flight (if any)
   * has finished, so that it cannot land on top of the final message, but after `settleMs` at most.
   * A send still hanging then may land later; if it does succeed, the final message is delivered
   * again so that it stays on top.
   */
  async finish<Result>(deliver: () => Promise<Result>): Promise<Result> {
    this.stop();
    const inFlight = this.#inFlight;
    if (!inFlight || (await this.#settlesInTime(inFlight))) return deliver();
    const result = await deliver();
    void inFlight
      .then(async (landed) => {
        if (landed) await deliver();
      })
      .catch((error: unknown) => this.options.onError?.(error));
    return result;
  }

  /** Stops sending updates without a final message. */
  stop(): void {
    this.#finished = true;
    this.#hasPending = false;
    this.#pending = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #settlesInTime(inFlight: Promise<boolean>): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.options.settleMs ?? 1000)));
    const settled = await Promise.race([inFlight.then(() => true), timeout]);
    clearTimeout(timer);
    return settled;
  }

  #pump(): void {
    if (this.#finished || this.#inFlight || !this.#hasPending || this.#timer) return;
    const wait = this.#nextSendAt - Date.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    const update = this.#pending as Update;
    this.#pending = undefined;
    this.#hasPending = false;
    this.#nextSendAt = Date.now() + this.options.intervalMs;
    // Wrapped so that a send that throws synchronously is handled like one that rejects.
    const inFlight = new Promise<void>((resolve) => resolve(this.options.send(update))).then(
      () => true,
      (error: unknown) => {
        const retryAfter = this.options.retryAfterMs?.(error);
        if (retryAfter !== undefined) this.#nextSendAt = Math.max(this.#nextSendAt, Date.now() + retryAfter);
        this.options.onError?.(error);
        return false;
      },
    );
    this.#inFlight = inFlight;
    void inFlight.then(() => {
      this.#inFlight = undefined;
      this.#pump();
    });
  }
}
