import { describe, expect, it } from 'vitest';
import { mayUseCommand, type CommandOverrides } from '../../src/bot/moderation/command-permissions.ts';

// Cases written from Discord's "Application Command Permissions" documentation, not from the code.
const guildId = '1000';
const allChannels = '999';
const where = { guildId, channelId: '2000' };
const role = (id: string, permission: boolean) => ({ id, type: 1 as const, permission });
const user = (id: string, permission: boolean) => ({ id, type: 2 as const, permission });
const channel = (id: string, permission: boolean) => ({ id, type: 3 as const, permission });
const member = (roleIds: string[] = [], isAdministrator = false) => ({ userId: '42', roleIds, isAdministrator });
const on = (command: CommandOverrides['command'], app: CommandOverrides['app'] = []): CommandOverrides => ({ command, app });

describe("Discord's per-command permission overrides", () => {
  it('allows when nothing is set', () => {
    expect(mayUseCommand(on([]), where, member())).toBe(true);
  });

  it('a channel override denies everyone there, a specific channel winning over "all channels"', () => {
    expect(mayUseCommand(on([channel('2000', false)]), where, member())).toBe(false);
    expect(mayUseCommand(on([channel(allChannels, false)]), where, member())).toBe(false);
    expect(mayUseCommand(on([channel(allChannels, false), channel('2000', true)]), where, member())).toBe(true);
    expect(mayUseCommand(on([channel('3000', false)]), where, member())).toBe(true);
  });

  it("the member's own override wins over their roles and @everyone", () => {
    expect(mayUseCommand(on([user('42', true), role(guildId, false)]), where, member())).toBe(true);
    expect(mayUseCommand(on([user('42', false), role('7', true)]), where, member(['7']))).toBe(false);
  });

  it('any allowed role of the member allows; @everyone applies only when none of their roles is listed', () => {
    expect(mayUseCommand(on([role('7', false), role('8', true)]), where, member(['7', '8']))).toBe(true);
    expect(mayUseCommand(on([role('7', false)]), where, member(['7']))).toBe(false);
    expect(mayUseCommand(on([role(guildId, false), role('8', true)]), where, member(['8']))).toBe(true);
    expect(mayUseCommand(on([role(guildId, false), role('8', true)]), where, member(['9']))).toBe(false);
  });

  it("the app's overrides apply where the command has none of its own", () => {
    expect(mayUseCommand(on([], [role(guildId, false)]), where, member())).toBe(false);
    expect(mayUseCommand(on([role(guildId, true)], [role(guildId, false)]), where, member())).toBe(true);
    expect(mayUseCommand(on([], [channel('2000', false)]), where, member())).toBe(false);
  });

  it('administrators are never refused', () => {
    expect(mayUseCommand(on([user('42', false), channel('2000', false)]), where, member([], true))).toBe(true);
  });
});
