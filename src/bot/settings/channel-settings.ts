import { z } from 'zod';
import { SCHEDULER_NAMES } from '../../engine/schedulers/scheduler.ts';
import type { SchedulerName } from '../../engine/types.ts';
import { SIZE_NAMES, type SizeName } from '../jobs/sizes.ts';
import { readFailClosed, type KeyValueStore } from './key-value-store.ts';
import { NSFW_POLICIES, type NsfwPolicy } from '../moderation/nsfw-policy.ts';

/** What moderators can set per channel with /settings. Absent fields fall back to the bot's defaults. */
export interface ChannelSettings {
  enabled: boolean;
  steps?: number;
  guidance?: number;
  size?: SizeName;
  scheduler?: SchedulerName;
  negative?: string;
  maxSteps?: number;
  maxCount?: number;
  /** The model /imagine uses here when the member names none (a served model's name). */
  model?: string;
  /** When set, the only models /imagine may use here. */
  allowedModels?: string[];
  /** Flagged images here: block, spoiler or allow (see moderation/nsfw-policy.ts for the defaults). */
  nsfw?: NsfwPolicy;
  /** Models without a safety checker may draw here, although the channel is not age-restricted. */
  uncheckedModels?: boolean;
  /** Whole words (or phrases) refused in prompts, matched case-insensitively. */
  bannedWords: string[];
}

export const DEFAULT_CHANNEL_SETTINGS: Readonly<ChannelSettings> = Object.freeze({ enabled: true, bannedWords: [] });

export const RESETTABLE_SETTINGS = [
  'enabled',
  'steps',
  'guidance',
  'size',
  'scheduler',
  'negative',
  'maxSteps',
  'maxCount',
  'model',
  'allowedModels',
  'nsfw',
  'uncheckedModels',
  'bannedWords',
] as const satisfies readonly (keyof ChannelSettings)[];
export type SettingName = (typeof RESETTABLE_SETTINGS)[number];

/** Stored data is re-validated on read: an entry written by an older version must not crash a command. */
const storedSettings = z.object({
  enabled: z.boolean().catch(true),
  steps: z.number().int().optional().catch(undefined),
  guidance: z.number().optional().catch(undefined),
  size: z.enum(SIZE_NAMES).optional().catch(undefined),
  scheduler: z.enum(SCHEDULER_NAMES).optional().catch(undefined),
  negative: z.string().optional().catch(undefined),
  maxSteps: z.number().int().optional().catch(undefined),
  maxCount: z.number().int().optional().catch(undefined),
  model: z.string().min(1).optional().catch(undefined),
  allowedModels: z.array(z.string()).optional().catch(undefined),
  // Unreadable means the strictest: block, and no unchecked models.
  nsfw: z.enum(NSFW_POLICIES).optional().catch('block'),
  uncheckedModels: z.boolean().optional().catch(undefined),
  bannedWords: z.array(z.string()).catch([]),
});

function withoutUndefined(settings: ChannelSettings): ChannelSettings {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as unknown as ChannelSettings;
}

/**
 * Fails closed: when the store cannot be read, `get` rejects with a StoreError; it never
 * answers with the defaults, which would switch a channel a moderator turned off back on.
 */
export class ChannelSettingsStore {
  constructor(private readonly keyv: KeyValueStore<ChannelSettings>) {}

  async get(channelId: string): Promise<ChannelSettings> {
    const stored = await readFailClosed(this.keyv, channelId, `the settings of channel ${channelId}`);
    if (stored === undefined) return { ...DEFAULT_CHANNEL_SETTINGS, bannedWords: [] };
    return withoutUndefined(storedSettings.parse(stored));
  }

  async update(channelId: string, changes: Partial<ChannelSettings>): Promise<ChannelSettings> {
    const next = withoutUndefined({ ...(await this.get(channelId)), ...changes });
    await this.keyv.set(channelId, next);
    return next;
  }

  /** Resets one setting, or all of them when `setting` is omitted. */
  async reset(channelId: string, setting?: SettingName): Promise<ChannelSettings> {
    if (setting === undefined) {
      await this.keyv.delete(channelId);
      return this.get(channelId);
    }
    const current = await this.get(channelId);
    const next: ChannelSettings = { ...current };
    if (setting === 'enabled') next.enabled = true;
    else if (setting === 'bannedWords') next.bannedWords = [];
    else delete next[setting];
    await this.keyv.set(channelId, next);
    return next;
  }
}
