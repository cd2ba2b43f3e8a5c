import { createHash } from 'node:crypto';
import { ERROR_MESSAGES } from './errors.ts';

export interface FaultSpec {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /** Matched against the API path without the `/api/v10` prefix and without the query string. */
  path: RegExp | string;
  /** Status to answer with. Omit to only add latency (`delayMs`) and then handle normally. */
  status?: number;
  /** How many matching requests the fault applies to (default 1; Infinity for a permanent fault). */
  times?: number;
  /** For 429: seconds put in `Retry-After`, `retry_after` and the reset headers (default 1). */
  retryAfterSec?: number;
  /** Discord JSON error code for 4xx bodies (e.g. 50013 Missing Permissions). */
  code?: number;
  message?: string;
  /** For 429: a global rate limit (`X-RateLimit-Global`, scope `global`). */
  global?: boolean;
  /** For 429: `X-RateLimit-Scope` (default `user`, or `global` when global). */
  scope?: 'user' | 'global' | 'shared';
  /** Wait this long before answering (or before handling, when there is no status). */
  delayMs?: number;
}

export interface Fault extends FaultSpec {
  readonly id: number;
  /** Matching requests still to be hit. */
  remaining: number;
  /** Matching requests answered by this fault so far. */
  hits: number;
}

export interface PlannedResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export class FaultInjector {
  private readonly faults: Fault[] = [];
  private nextId = 1;

  add(spec: FaultSpec): Fault {
    const fault: Fault = { ...spec, id: this.nextId++, remaining: spec.times ?? 1, hits: 0 };
    this.faults.push(fault);
    return fault;
  }

  remove(fault: Fault): void {
    const index = this.faults.indexOf(fault);
    if (index >= 0) this.faults.splice(index, 1);
  }

  clear(): void {
    this.faults.length = 0;
  }

  get active(): readonly Fault[] {
    return this.faults.filter((f) => f.remaining > 0);
  }

  /** First still-armed fault matching the request, consuming one of its uses. */
  take(method: string, path: string): Fault | undefined {
    const fault = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        (!f.method || f.method.toUpperCase() === method) &&
        (typeof f.path === 'string' ? f.path === path : matches(f.path, path)),
    );
    if (!fault) return undefined;
    fault.remaining--;
    fault.hits++;
    return fault;
  }
}

function matches(pattern: RegExp, path: string): boolean {
  // A /g or /y regex keeps lastIndex between calls and would match every other request only.
  pattern.lastIndex = 0;
  return pattern.test(path);
}

export function faultResponse(fault: Fault & { status: number }, bucket: string): PlannedResponse {
  if (fault.status === 429) {
    const retryAfter = fault.retryAfterSec ?? 1;
    const global = fault.global ?? false;
    const scope = fault.scope ?? (global ? 'global' : 'user');
    // Global limits carry no bucket headers on Discord; per-route ones report the exhausted bucket.
    const headers: Record<string, string> = global
      ? { 'Retry-After': String(retryAfter), 'X-RateLimit-Global': 'true', 'X-RateLimit-Scope': scope }
      : {
          'Retry-After': String(retryAfter),
          'X-RateLimit-Limit': '5',
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Reset': ((Date.now() + retryAfter * 1000) / 1000).toFixed(3),
          'X-RateLimit-Reset-After': retryAfter.toFixed(3),
          'X-RateLimit-Bucket': bucket,
          'X-RateLimit-Scope': scope,
        };
    return {
      status: 429,
      headers,
      body: {
        message: fault.message ?? 'You are being rate limited.',
        retry_after: retryAfter,
        global,
        ...(fault.code !== undefined ? { code: fault.code } : {}),
      },
    };
  }
  if (fault.status >= 500) {
    // Discord's edge answers 5xx with an HTML page, not a JSON error object.
    return {
      status: fault.status,
      headers: { 'Content-Type': 'text/html' },
      body: `<html><head><title>${fault.status}</title></head><body><center><h1>${fault.status}</h1></center></body></html>`,
    };
  }
  const code = fault.code ?? 0;
  return {
    status: fault.status,
    headers: {},
    body: { message: fault.message ?? ERROR_MESSAGES[code] ?? `${fault.status}: Error`, code },
  };
}

export interface RateLimitRule {
  method?: string;
  path?: RegExp;
  /** Requests allowed per window per bucket (top-level resource included, as on Discord). */
  limit: number;
  windowSec: number;
}

interface BucketState {
  used: number;
  resetAt: number;
}

/**
 * Per-route buckets with Discord's headers so @discordjs/rest's SequentialHandler tracks them as
 * it does in production; exceeding a bucket yields a real 429. Defaults are generous so tests only
 * hit limits they configure.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, BucketState>();

  constructor(private readonly rules: RateLimitRule[]) {}

  addRule(rule: RateLimitRule): void {
    this.rules.unshift(rule);
  }

  /** Returns headers for an allowed request, or a 429 response when the bucket is exhausted. */
  check(method: string, path: string, routeKey: string, majorId: string): { ok: true; headers: Record<string, string> } | { ok: false; response: PlannedResponse } {
    const rule = this.rules.find((r) => (!r.method || r.method.toUpperCase() === method) && (!r.path || matches(r.path, path)));
    const hash = bucketHash(method, routeKey);
    if (!rule) return { ok: true, headers: {} };
    const key = `${hash}:${majorId}`;
    const now = Date.now();
    let state = this.buckets.get(key);
    if (!state || state.resetAt <= now) {
      state = { used: 0, resetAt: now + rule.windowSec * 1000 };
      this.buckets.set(key, state);
    }
    const resetAfter = (state.resetAt - now) / 1000;
    if (state.used >= rule.limit) {
      return {
        ok: false,
        response: {
          status: 429,
          headers: {
            'Retry-After': String(Math.ceil(resetAfter)),
            'X-RateLimit-Limit': String(rule.limit),
            'X-RateLimit-Remaining': '0',
            'X-RateLimit-Reset': (state.resetAt / 1000).toFixed(3),
            'X-RateLimit-Reset-After': resetAfter.toFixed(3),
            'X-RateLimit-Bucket': hash,
            'X-RateLimit-Scope': 'user',
          },
          body: { message: 'You are being rate limited.', retry_after: Number(resetAfter.toFixed(3)), global: false },
        },
      };
    }
    state.used++;
    return {
      ok: true,
      headers: {
        'X-RateLimit-Limit': String(rule.limit),
        'X-RateLimit-Remaining': String(rule.limit - state.used),
        'X-RateLimit-Reset': (state.resetAt / 1000).toFixed(3),
        'X-RateLimit-Reset-After': resetAfter.toFixed(3),
        'X-RateLimit-Bucket': hash,
      },
    };
  }
}

export function bucketHash(method: string, routeKey: string): string {
  return createHash('sha1').update(`${method} ${routeKey}`).digest('hex').slice(0, 16);
}
