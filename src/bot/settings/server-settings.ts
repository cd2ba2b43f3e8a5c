import { z } from 'zod';
import { readFailClosed, type KeyValueStore } from './key-value-store.ts';

/** Server-wide choices (/settings server), which only members who can manage the server change. */
export interface ServerSettings {
  /** Owners may get the images their channel's NSFW policy withheld, by DM. Off unless a server turns it on. */
  withheldByDm: boolean;
}

export const DEFAULT_SERVER_SETTINGS: Readonly<ServerSettings> = Object.freeze({ withheldByDm: false });

const storedServerSettings = z.object({ withheldByDm: z.boolean().catch(false) });

/** Keyed by guild id, in a namespace of its own (an old server's #general shares the guild's id). Fails closed. */
export class ServerSettingsStore {
  constructor(private readonly keyv: KeyValueStore<ServerSettings>) {}

  async get(guildId: string): Promise<ServerSettings> {
    const stored = await readFailClosed(this.keyv, guildId, `the settings of server ${guildId}`);
    return stored === undefined ? { ...DEFAULT_SERVER_SETTINGS } : storedServerSettings.parse(stored);
  }

  async update(guildId: string, changes: Partial<ServerSettings>): Promise<ServerSettings> {
    const next = { ...(await this.get(guildId)), ...changes };
    await this.keyv.set(guildId, next);
    return next;
  }
}
