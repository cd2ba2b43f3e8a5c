import { PermissionFlagsBits, type PermissionsBitField } from 'discord.js';

type Permissions = Readonly<PermissionsBitField> | null | undefined;

/** May cancel or delete other people's jobs and results. */
export function isModerator(permissions: Permissions): boolean {
  return permissions?.any([PermissionFlagsBits.ManageMessages, PermissionFlagsBits.ManageChannels]) ?? false;
}

/** May change a channel's /settings. */
export function canManageSettings(permissions: Permissions): boolean {
  return permissions?.has(PermissionFlagsBits.ManageChannels) ?? false;
}

/** May change server-wide settings (/settings server). */
export function canManageServer(permissions: Permissions): boolean {
  return permissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
}
