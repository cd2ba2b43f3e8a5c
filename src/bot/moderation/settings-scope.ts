import type { Client } from 'discord.js';

/** The little of a Discord channel that decides whose settings apply in it. */
export interface ScopedChannel {
  /** Absent on DM channels. */
  parentId?: string | null;
  isThread(): boolean;
}

/**
 * Threads and forum posts have no settings of their own: they follow their parent channel, so that a
 * thread cannot bypass the channel's on/off switch or banned words.
 */
export function settingsChannelIdOf(channel: ScopedChannel | null | undefined, channelId: string): string {
  return channel?.isThread() && channel.parentId ? channel.parentId : channelId;
}

/** Finds the channel whose settings apply where only an id is known (reactions, buttons on old results). */
export interface ChannelDirectory {
  /** Rejects when the channel cannot be looked up: callers refuse rather than guess. */
  settingsChannelId(channelId: string): Promise<string>;
  /**
   * Whether Discord marks the channel age-restricted (a thread or forum post: its parent). Rejects when
   * it cannot be looked up: callers refuse rather than guess.
   */
  ageRestricted(channelId: string): Promise<boolean>;
}

/** The little of a channel that says whether it is age-restricted. */
interface MaybeNsfw {
  nsfw?: boolean;
}

export class DiscordChannelDirectory implements ChannelDirectory {
  constructor(private readonly client: Client) {}

  async settingsChannelId(channelId: string): Promise<string> {
    // Cached channels (threads included, from the gateway) answer without a request.
    const channel = await this.client.channels.fetch(channelId);
    return settingsChannelIdOf(channel, channelId);
  }

  async ageRestricted(channelId: string): Promise<boolean> {
    const settingsChannelId = await this.settingsChannelId(channelId);
    const channel = await this.client.channels.fetch(settingsChannelId);
    return (channel as MaybeNsfw | null)?.nsfw === true;
  }
}
