import type { RedisClient } from './redis-client.ts';
import { RedisKeys } from './keys.ts';

/**
 * Counts each user's jobs in the system across every gateway and worker, in Redis: the per-user cap
 * and the fairness priority are decided by one Lua script, so two gateways cannot both let a user past
 * the cap. Entries are "waiting:<ms>" or "running:<ms>"; an entry left behind by a process that died
 * between admitting and enqueueing stops counting after {@link STALE_ENTRY_MS}.
 */
export const STALE_ENTRY_MS = 24 * 60 * 60 * 1000;

/**
 * KEYS[1] user hash · ARGV jobId, cap, now, staleMs.
 * Returns the priority for the new job (1 + the user's jobs already in the system), or -1 at the cap.
 */
const ADMIT = `
local entries = redis.call('HGETALL', KEYS[1])
local now, stale = tonumber(ARGV[3]), tonumber(ARGV[4])
local total, waiting = 0, 0
for i = 1, #entries, 2 do
  local state, at = string.match(entries[i + 1], '^(%a+):(%d+)$')
  if at == nil or now - tonumber(at) > stale then
    redis.call('HDEL', KEYS[1], entries[i])
  else
    total = total + 1
    if state == 'waiting' then waiting = waiting + 1 end
  end
end
if waiting >= tonumber(ARGV[2]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], 'waiting:' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], stale)
return total + 1
`;

/** KEYS[1] user hash · ARGV jobId, state, now: changes the state only of an entry that exists. */
const MARK = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
  return 1
end
return 0
`;

export type Admission = { admitted: true; priority: number } | { admitted: false };

export class UserLedger {
  constructor(private readonly redis: RedisClient) {}

  async admit(userId: string, jobId: string, cap: number): Promise<Admission> {
    const result = Number(
      await this.redis.eval(ADMIT, { keys: [RedisKeys.userJobs(userId)], arguments: [jobId, String(cap), String(Date.now()), String(STALE_ENTRY_MS)] }),
    );
    return result < 0 ? { admitted: false } : { admitted: true, priority: result };
  }

  /** How many of the user's jobs wait right now (a quick pre-check; `admit` is the one that counts). */
  async waitingCount(userId: string): Promise<number> {
    const states = await this.redis.hVals(RedisKeys.userJobs(userId));
    return states.filter((state) => state.startsWith('waiting:')).length;
  }

  async markRunning(userId: string, jobId: string): Promise<void> {
    await this.#mark(userId, jobId, 'running');
  }

  async markWaiting(userId: string, jobId: string): Promise<void> {
    await this.#mark(userId, jobId, 'waiting');
  }

  async forget(userId: string, jobId: string): Promise<void> {
    await this.redis.hDel(RedisKeys.userJobs(userId), jobId);
  }

  async #mark(userId: string, jobId: string, state: 'waiting' | 'running'): Promise<void> {
    await this.redis.eval(MARK, { keys: [RedisKeys.userJobs(userId)], arguments: [jobId, state, String(Date.now())] });
  }
}
