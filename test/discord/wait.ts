import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Poll period, default 10 ms. */
  intervalMs?: number;
  /** Describes what was awaited, for the timeout error. */
  message?: string;
}

/**
 * Polls `predicate` until it returns something other than undefined/null/false. State in the fake
 * changes from socket callbacks, so polling is simpler and less racy than wiring events per field.
 */
export async function waitFor<T>(
  predicate: () => T | undefined | null | false,
  options: WaitOptions = {},
  diagnostics?: () => string,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = predicate();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() >= deadline) {
      const what = options.message ?? 'condition';
      const extra = diagnostics ? `\n${diagnostics()}` : '';
      throw new Error(`FakeDiscord.waitFor: timed out after ${timeoutMs} ms waiting for ${what}${extra}`);
    }
    await sleep(intervalMs);
  }
}
