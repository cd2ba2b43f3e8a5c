import { GuildMember, PermissionFlagsBits, type ButtonInteraction, type ModalSubmitInteraction, type Guild } from 'discord.js';
import type { CommandUser } from './command-permissions.ts';

function fromMember(member: GuildMember): CommandUser {
  return { userId: member.id, roleIds: [...member.roles.cache.keys()], isAdministrator: member.permissions.has(PermissionFlagsBits.Administrator) };
}

/** The member who pressed a button or submitted a form, from the interaction itself (cached member or raw API member). */
export function commandUserOfInteraction(interaction: ButtonInteraction | ModalSubmitInteraction): CommandUser {
  const { member } = interaction;
  if (member instanceof GuildMember) return fromMember(member);
  return {
    userId: interaction.user.id,
    roleIds: member?.roles ?? [],
    isAdministrator: interaction.memberPermissions?.has(PermissionFlagsBits.Administrator) ?? false,
  };
}

/**
 * The member who reacted: the reaction event carries them, so they are usually cached; else fetched.
 * Outside a server (DMs) there are no roles and no overrides.
 */
export async function commandUserOfReaction(guild: Guild | null, userId: string): Promise<CommandUser> {
  if (!guild) return { userId, roleIds: [], isAdministrator: false };
  const member = guild.members.cache.get(userId) ?? (await guild.members.fetch(userId));
  return fromMember(member);
}
