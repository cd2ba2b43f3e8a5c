import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** Wait before the second try; doubled before each later one. */
  baseDelayMs: number;
  shouldRetry(error: unknown): boolean;
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
}

/**
 * Runs `action` until it succeeds, a failure is not worth retrying, or the tries are used up. A tiny
 * helper rather than a dependency: no retry library is installed, and discord.js already retries
 * single requests; this retries whole deliveries (which may span several requests).
 */
export async function withRetry<T>(action: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (attempt >= options.attempts || !options.shouldRetry(error)) throw error;
      const delayMs = options.baseDelayMs * 2 ** (attempt - 1);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}
