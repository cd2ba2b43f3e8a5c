import { describe, expect, it } from 'vitest';
import type { FakeMessage } from '../../discord/fake-discord.ts';
import { registerCommands } from '../../../src/bot/register-commands.ts';
import { embedField, imagine, isResult, options, privateReplies, settings, useWorld, waitForResult, type World } from './harness.ts';

/** The bot's answers to a refused 🔁 in `channelId`: messages that reply to `resultId` and are not results. */
function notices(w: World, channelId: string, resultId: string): FakeMessage[] {
  return w.fake.messages(channelId).filter((m) => m.message_reference?.message_id === resultId && /^<@\d+> 🔁 /.test(m.content));
}

describe('moderation holes closed, end to end', () => {
  const scene = useWorld();

  it("a thread follows its parent channel's settings: off switch, banned words, defaults", async () => {
    const w = scene.world;
    await scene.startBot();
    const thread = w.fake.addThread(w.channel.id, { name: 'side chat' });
    await (await settings(w, w.moderator, 'set', { banned_words: 'spider', steps: 3 })).waitForResponse();
    const inThread = (userId: string, values: Record<string, string | number>) =>
      w.fake.sendCommand({ userId, guildId: w.guild.id, channelId: thread.id, name: 'imagine', options: options(values) });

    const banned = await inThread(w.alice, { prompt: 'a spider on a wall' });
    await banned.waitForResponse();
    expect(privateReplies(banned)).toEqual(['Your prompt contains “spider”, which is not allowed in this channel.']);

    const allowed = await inThread(w.alice, { prompt: 'a quiet pond', seed: 7 });
    const result = await waitForResult(w, allowed);
    expect(result.channel_id).toBe(thread.id);
    expect(embedField(result, 'Steps')).toBe('3');

    // /settings used in the thread shows (and would change) the parent's, and says so.
    const show = await w.fake.sendCommand({ userId: w.moderator, guildId: w.guild.id, channelId: thread.id, name: 'settings', options: [{ name: 'show', type: 1, options: [] }] });
    const shown = await show.waitForResponse();
    expect(String(shown.data?.content)).toContain(`These are the settings of <#${w.channel.id}>, which this thread follows.`);

    await (await settings(w, w.moderator, 'set', { enabled: false })).waitForResponse();
    const off = await inThread(w.bob, { prompt: 'a quiet pond' });
    await off.waitForResponse();
    expect(privateReplies(off)).toEqual(['/imagine is turned off in this channel.']);

    // A 🔁 on the thread's result follows the parent too, and the refusal is answered in the thread.
    await w.fake.addReaction({ userId: w.bob, guildId: w.guild.id, channelId: thread.id, messageId: result.id, emoji: '🔁' });
    const notice = await w.fake.waitFor(() => notices(w, thread.id, result.id)[0], { timeoutMs: 10_000 });
    expect(notice.content).toBe(`<@${w.bob}> 🔁 /imagine is turned off in this channel.`);
  });

  it('a refused 🔁 reaction is answered with a notice that deletes itself, and starts nothing', async () => {
    const w = scene.world;
    const running = await scene.startBot({ moderation: { noticeLifetimeMs: 200 } });
    const first = await imagine(w, w.alice, { prompt: 'a red barn', seed: 3, steps: 2 });
    const original = await waitForResult(w, first);
    await (await settings(w, w.moderator, 'set', { banned_words: 'barn' })).waitForResponse();

    await w.fake.addReaction({ userId: w.bob, channelId: w.channel.id, messageId: original.id, emoji: '🔁' });
    const notice = await w.fake.waitFor(() => notices(w, w.channel.id, original.id)[0], { timeoutMs: 10_000 });
    expect(notice.content).toBe(`<@${w.bob}> 🔁 That prompt contains “barn”, which is no longer allowed in this channel.`);
    expect(notice.mentions.map((user) => user.id)).toEqual([w.bob]);
    await w.fake.waitFor(() => w.fake.message(w.channel.id, notice.id) === undefined || undefined, { timeoutMs: 10_000 });
    expect(running.engine.requests).toHaveLength(1);
  });

  it("🔁, 🎨 and ✏️ obey the server's per-command overrides for /imagine: a member denied it is refused, one allowed by role is not", async () => {
    const w = scene.world;
    await scene.startBot();
    await registerCommands({ token: w.fake.token, applicationId: w.fake.applicationId, apiUrl: w.fake.restUrl, guildId: w.guild.id });
    const artists = w.fake.addRole(w.guild.id, { name: 'artists', permissions: 0n });
    const carol = w.fake.addUser({ username: 'carol' }).id;
    w.fake.addMember(w.guild.id, carol, { roles: [artists.id] });
    const first = await imagine(w, w.alice, { prompt: 'a windmill', seed: 5, steps: 2 });
    const original = await waitForResult(w, first);
    // /imagine here only for the artists role; bob is not in it.
    w.fake.setCommandPermissions(w.guild.id, [{ id: w.guild.id, type: 1, permission: false }, { id: artists.id, type: 1, permission: true }], 'imagine');

    await w.fake.addReaction({ userId: w.bob, channelId: w.channel.id, messageId: original.id, emoji: '🔁' });
    const notice = await w.fake.waitFor(() => notices(w, w.channel.id, original.id)[0], { timeoutMs: 10_000 });
    expect(notice.content).toBe(`<@${w.bob}> 🔁 You are not allowed to use /imagine in this channel, so you cannot reroll, vary, upscale or edit its results here either.`);
    const press = await w.fake.pressButton({ userId: w.bob, channelId: w.channel.id, messageId: original.id, customId: 'imagine:reroll' });
    await press.waitForResponse();
    expect(await w.fake.waitFor(() => privateReplies(press)[0], { timeoutMs: 10_000 })).toBe('You are not allowed to use /imagine in this channel, so you cannot reroll, vary, upscale or edit its results here either.');
    // 🎨 and ✏️ start jobs through the same flow, so the same overrides refuse them.
    const vary = await w.fake.pressButton({ userId: w.bob, channelId: w.channel.id, messageId: original.id, customId: 'imagine:vary:1' });
    await vary.waitForResponse();
    expect(await w.fake.waitFor(() => privateReplies(vary)[0], { timeoutMs: 10_000 })).toBe('You are not allowed to use /imagine in this channel, so you cannot reroll, vary, upscale or edit its results here either.');
    // Refused before any work: the result image was never downloaded for it.
    expect(w.fake.attachmentDownloads).toEqual([]);
    const edit = await w.fake.submitModal({ userId: w.bob, channelId: w.channel.id, messageId: original.id, customId: `imagine:edit-modal:${original.id}`, fields: { prompt: 'a windmill at night', negative: '' } });
    await edit.waitForResponse();
    expect(await w.fake.waitFor(() => privateReplies(edit)[0], { timeoutMs: 10_000 })).toBe('You are not allowed to use /imagine in this channel, so you cannot reroll, vary, upscale or edit its results here either.');

    await w.fake.addReaction({ userId: carol, channelId: w.channel.id, messageId: original.id, emoji: '🔁' });
    const reroll = await w.fake.waitFor(() => w.fake.messages(w.channel.id).find((m) => m.message_reference?.message_id === original.id && isResult(m)), { timeoutMs: 20_000 });
    expect(reroll.content).toContain(`<@${carol}>`);
  });

  it('where the bot cannot post the notice, the refused member gets it by DM', async () => {
    const w = scene.world;
    await scene.startBot();
    const first = await imagine(w, w.alice, { prompt: 'a red barn', seed: 3, steps: 2 });
    const original = await waitForResult(w, first);
    await (await settings(w, w.moderator, 'set', { enabled: false })).waitForResponse();
    w.fake.injectFault({ method: 'POST', path: `/channels/${w.channel.id}/messages`, status: 403, code: 50013, message: 'Missing Permissions' });

    await w.fake.addReaction({ userId: w.bob, channelId: w.channel.id, messageId: original.id, emoji: '🔁' });
    const dm = await w.fake.waitFor(() => {
      const channel = w.fake.dmChannel(w.bob);
      return channel ? w.fake.messages(channel.id)[0] : undefined;
    }, { timeoutMs: 10_000 });
    expect(dm.content).toBe('🔁 /imagine is turned off in this channel.');
  });

  it('🔁 has a per-member cooldown, for reactions and buttons alike; others are not held up', async () => {
    const w = scene.world;
    await scene.startBot({ moderation: { rerollCooldownMs: 600_000 } });
    const first = await imagine(w, w.alice, { prompt: 'a lighthouse', seed: 42, steps: 2 });
    const original = await waitForResult(w, first);
    const rerollsOf = () => w.fake.messages(w.channel.id).filter((m) => m.message_reference?.message_id === original.id && isResult(m));

    await w.fake.addReaction({ userId: w.bob, channelId: w.channel.id, messageId: original.id, emoji: '🔁' });
    await w.fake.waitFor(() => rerollsOf()[0], { timeoutMs: 20_000 });

    const press = await w.fake.pressButton({ userId: w.bob, channelId: w.channel.id, messageId: original.id, customId: 'imagine:reroll' });
    await press.waitForResponse();
    const refusal = await w.fake.waitFor(() => privateReplies(press)[0], { timeoutMs: 10_000 });
    expect(refusal).toMatch(/^Please wait \d+ s before rerolling again\.$/);

    await w.fake.removeReaction({ userId: w.bob, channelId: w.channel.id, messageId: original.id, emoji: '🔁' });
    await w.fake.addReaction({ userId: w.bob, channelId: w.channel.id, messageId: original.id, emoji: '🔁' });
    const notice = await w.fake.waitFor(() => notices(w, w.channel.id, original.id)[0], { timeoutMs: 10_000 });
    expect(notice.content).toMatch(new RegExp(`^<@${w.bob}> 🔁 Please wait \\d+ s before rerolling again\\.$`));

    // Alice has not rerolled yet: the cooldown is per member.
    await w.fake.addReaction({ userId: w.alice, channelId: w.channel.id, messageId: original.id, emoji: '🔁' });
    await w.fake.waitFor(() => rerollsOf()[1], { timeoutMs: 20_000 });
    expect(rerollsOf().map((m) => m.content.match(/<@\d+>/)?.[0])).toEqual([`<@${w.bob}>`, `<@${w.alice}>`]);
  });

  it('/imagine in a DM is refused clearly unless the operator allows DMs', async () => {
    const w = scene.world;
    const refusing = await scene.startBot();
    const attempt = await w.fake.sendDmCommand({ userId: w.alice, name: 'imagine', options: options({ prompt: 'a cat', steps: 2 }) });
    const reply = await attempt.waitForResponse();
    expect(reply.ephemeral).toBe(true);
    expect(reply.data?.content).toBe('I only make images in servers: the operator of this bot has not turned on /imagine in DMs.');
    expect(refusing.engine.requests).toHaveLength(0);
    await refusing.stop();

    await scene.startBot({ moderation: { allowDms: true } });
    const allowed = await w.fake.sendDmCommand({ userId: w.alice, name: 'imagine', options: options({ prompt: 'a cat', steps: 2 }) });
    const result = await waitForResult(w, allowed);
    expect(result.channel_id).toBe(w.fake.dmChannel(w.alice)?.id);
    expect(embedField(result, 'Prompt')).toBe('a cat');
  });
});
