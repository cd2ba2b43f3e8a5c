import { ApplicationCommandPermissionType, Routes, type APIApplicationCommand, type APIApplicationCommandPermission, type REST } from 'discord.js';

/** Who is acting, as far as Discord's command permissions look at them. */
export interface CommandUser {
  userId: string;
  roleIds: readonly string[];
  /** Administrators may use every command whatever the overrides say. */
  isAdministrator: boolean;
}

export interface CommandOverrides {
  /** Overrides set on the command itself. */
  command: readonly APIApplicationCommandPermission[];
  /** Overrides set on the whole app (they apply where the command has none of its own). */
  app: readonly APIApplicationCommandPermission[];
}

/**
 * Discord's rules for per-command permission overrides (Server Settings › Integrations), as its
 * "Application Command Permissions" documentation describes them: a channel override (this channel, else
 * "all channels", the guild id minus 1) denies outright; then the member's own override, else their roles
 * (allowed if any listed role allows), else @everyone (the guild id); the command's settings first, the
 * app's where the command has none. Nothing set: allowed (/imagine has no default member permissions).
 */
export function mayUseCommand(overrides: CommandOverrides, where: { guildId: string; channelId: string }, who: CommandUser): boolean {
  if (who.isAdministrator) return true;
  const allChannels = (BigInt(where.guildId) - 1n).toString();
  const channelRule = (list: readonly APIApplicationCommandPermission[]) => {
    const channels = list.filter((p) => p.type === ApplicationCommandPermissionType.Channel);
    return (channels.find((p) => p.id === where.channelId) ?? channels.find((p) => p.id === allChannels))?.permission;
  };
  if ((channelRule(overrides.command) ?? channelRule(overrides.app)) === false) return false;

  const memberRule = (list: readonly APIApplicationCommandPermission[]): boolean | undefined => {
    const own = list.find((p) => p.type === ApplicationCommandPermissionType.User && p.id === who.userId);
    if (own) return own.permission;
    const roles = list.filter((p) => p.type === ApplicationCommandPermissionType.Role && p.id !== where.guildId && who.roleIds.includes(p.id));
    if (roles.length > 0) return roles.some((p) => p.permission);
    return list.find((p) => p.type === ApplicationCommandPermissionType.Role && p.id === where.guildId)?.permission;
  };
  return memberRule(overrides.command) ?? memberRule(overrides.app) ?? true;
}

/** Whether a member may use a command where they are; rejects when Discord cannot be asked (callers refuse). */
export interface CommandPermissionChecker {
  mayUse(commandName: string, where: { guildId: string; channelId: string }, who: CommandUser): Promise<boolean>;
}

interface GuildCommandPermissions {
  id: string;
  permissions: APIApplicationCommandPermission[];
}

/** Asks Discord each time, so that an admin's change applies at once; command ids are kept a while. */
export class DiscordCommandPermissions implements CommandPermissionChecker {
  readonly #commandIds = new Map<string, { id: string | undefined; at: number }>();

  constructor(
    private readonly rest: REST,
    private readonly applicationId: string,
    private readonly commandIdLifetimeMs = 10 * 60_000,
  ) {}

  async mayUse(commandName: string, where: { guildId: string; channelId: string }, who: CommandUser): Promise<boolean> {
    const [commandId, all] = await Promise.all([
      this.#commandId(commandName, where.guildId),
      this.rest.get(Routes.guildApplicationCommandsPermissions(this.applicationId, where.guildId)) as Promise<GuildCommandPermissions[]>,
    ]);
    const of = (id: string | undefined) => all.find((entry) => entry.id === id)?.permissions ?? [];
    return mayUseCommand({ command: of(commandId), app: of(this.applicationId) }, where, who);
  }

  /** The guild's own registration wins over the global one, as Discord resolves it. */
  async #commandId(commandName: string, guildId: string): Promise<string | undefined> {
    const key = `${guildId}:${commandName}`;
    const cached = this.#commandIds.get(key);
    if (cached && Date.now() - cached.at < this.commandIdLifetimeMs) return cached.id;
    const [inGuild, global] = await Promise.all([
      this.rest.get(Routes.applicationGuildCommands(this.applicationId, guildId)) as Promise<APIApplicationCommand[]>,
      this.rest.get(Routes.applicationCommands(this.applicationId)) as Promise<APIApplicationCommand[]>,
    ]);
    const id = (inGuild.find((c) => c.name === commandName) ?? global.find((c) => c.name === commandName))?.id;
    this.#commandIds.set(key, { id, at: Date.now() });
    return id;
  }
}
