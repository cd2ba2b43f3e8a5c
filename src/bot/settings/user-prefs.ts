import { z } from 'zod';
import { SCHEDULER_NAMES } from '../../engine/schedulers/scheduler.ts';
import type { SchedulerName } from '../../engine/types.ts';
import { SIZE_NAMES, type SizeName } from '../jobs/sizes.ts';
import { readFailClosed, type KeyValueStore } from './key-value-store.ts';

/** A member's own /imagine defaults (/prefs): used where they give no option, always within the channel's limits. */
export interface UserPrefs {
  size?: SizeName;
  scheduler?: SchedulerName;
  steps?: number;
  model?: string;
}

export const PREF_NAMES = ['size', 'scheduler', 'steps', 'model'] as const satisfies readonly (keyof UserPrefs)[];
export type PrefName = (typeof PREF_NAMES)[number];

/** Re-validated on read, as channel settings are: an entry from an older version must not break /imagine. */
const storedPrefs = z.object({
  size: z.enum(SIZE_NAMES).optional().catch(undefined),
  scheduler: z.enum(SCHEDULER_NAMES).optional().catch(undefined),
  steps: z.number().int().positive().optional().catch(undefined),
  model: z.string().min(1).optional().catch(undefined),
});

function withoutUndefined(prefs: UserPrefs): UserPrefs {
  return Object.fromEntries(Object.entries(prefs).filter(([, value]) => value !== undefined)) as UserPrefs;
}

/** Per-member defaults, keyed by user id. Fails closed like the channel settings: an unreadable store rejects with a StoreError. */
export class UserPrefsStore {
  constructor(private readonly keyv: KeyValueStore<UserPrefs>) {}

  async get(userId: string): Promise<UserPrefs> {
    const stored = await readFailClosed(this.keyv, userId, `the preferences of user ${userId}`);
    return stored === undefined ? {} : withoutUndefined(storedPrefs.parse(stored));
  }

  async update(userId: string, changes: UserPrefs): Promise<UserPrefs> {
    const next = withoutUndefined({ ...(await this.get(userId)), ...changes });
    await this.keyv.set(userId, next);
    return next;
  }

  /** Forgets one preference, or all of them when `pref` is omitted. */
  async reset(userId: string, pref?: PrefName): Promise<UserPrefs> {
    if (pref === undefined) {
      await this.keyv.delete(userId);
      return {};
    }
    const next = { ...(await this.get(userId)) };
    delete next[pref];
    await this.keyv.set(userId, next);
    return next;
  }
}
