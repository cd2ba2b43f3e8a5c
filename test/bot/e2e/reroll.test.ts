import { describe, expect, it } from 'vitest';
import type { FakeMessage } from '../../discord/fake-discord.ts';
import { embedField, imagine, isResult, privateReplies, useWorld, waitForResult, type World } from './harness.ts';

describe('reroll and delete end to end', () => {
  const scene = useWorld();

  /** Results in the channel that reply to `parentId`. */
  function rerollsOf(w: World, parentId: string): FakeMessage[] {
    return w.fake.messages(w.channel.id).filter((message) => message.message_reference?.message_id === parentId && isResult(message));
  }

  async function firstResult(w: World): Promise<FakeMessage> {
    const interaction = await imagine(w, w.alice, { prompt: 'a lighthouse', seed: 42, steps: 4 });
    return waitForResult(w, interaction);
  }

  it('🔁 reaction reruns the job with a new seed as a reply to the original', async () => {
    const w = scene.world;
    await scene.startBot();
    const original = await firstResult(w);

    await w.fake.addReaction({ userId: w.bob, channelId: w.channel.id, messageId: original.id, emoji: '🔁' });
    const reroll = await w.fake.waitFor(() => rerollsOf(w, original.id)[0], { timeoutMs: 90_000 });
    expect(embedField(reroll, 'Seed')).not.toBe('42');
    expect(embedField(reroll, 'Prompt')).toBe('a lighthouse');
    expect(embedField(reroll, 'Steps')).toBe('4');
    expect(embedField(reroll, 'Reroll of')).toContain(original.id);
    expect(reroll.content).toContain(`<@${w.bob}>`);
    expect(reroll.attachments[0]?.filename).toMatch(/\.png$/);
  });

  it("ignores the bot's own reaction and other emoji", async () => {
    const w = scene.world;
    const running = await scene.startBot();
    const original = await firstResult(w);
    // The bot's own 🔁 is on the message (its reaction event is on its way to the bot first).
    await w.fake.waitFor(() => w.fake.message(w.channel.id, original.id)?.reactions?.some((r) => r.emoji.name === '🔁' && r.me) || undefined);
    await w.fake.addReaction({ userId: w.bob, channelId: w.channel.id, messageId: original.id, emoji: '👍' });
    // A marker after both: gateway events reach the bot in order, so once bob's own 🔁 reroll has
    // finished, the events before it were handled long since. Waiting on that, not on a timer.
    await w.fake.addReaction({ userId: w.bob, channelId: w.channel.id, messageId: original.id, emoji: '🔁' });
    await w.fake.waitFor(() => rerollsOf(w, original.id)[0], { timeoutMs: 90_000 });
    // The first job and bob's 🔁 only: neither the bot's 🔁 nor 👍 started anything.
    expect(running.engine.requests).toHaveLength(2);
    // One message replying to the original, whatever state it is in.
    expect(w.fake.messages(w.channel.id).filter((m) => m.message_reference?.message_id === original.id)).toHaveLength(1);
  });

  it('rerolls results made before a restart (parameters persisted, partial reaction)', async () => {
    const w = scene.world;
    const first = await scene.startBot();
    const original = await firstResult(w);
    await first.stop();

    const second = await scene.startBot();
    await w.fake.addReaction({ userId: w.alice, channelId: w.channel.id, messageId: original.id, emoji: '🔁' });
    const reroll = await w.fake.waitFor(() => rerollsOf(w, original.id)[0], { timeoutMs: 90_000 });
    expect(embedField(reroll, 'Seed')).not.toBe('42');
    expect(second.engine.requests[0]?.prompt).toBe('a lighthouse');
  });

  it('the 🔁 button rerolls too', async () => {
    const w = scene.world;
    await scene.startBot();
    const original = await firstResult(w);
    const press = await w.fake.pressButton({ userId: w.bob, channelId: w.channel.id, messageId: original.id, customId: 'imagine:reroll' });
    expect((await press.waitForResponse()).type).toBe(6);
    const reroll = await w.fake.waitFor(() => rerollsOf(w, original.id)[0], { timeoutMs: 90_000 });
    expect(embedField(reroll, 'Seed')).not.toBe('42');
  });

  it('❌ deletes a result for its owner or a moderator, and refuses others', async () => {
    const w = scene.world;
    await scene.startBot();
    const original = await firstResult(w);
    const byBob = await w.fake.pressButton({ userId: w.bob, channelId: w.channel.id, messageId: original.id, customId: 'imagine:delete' });
    await byBob.waitForResponse();
    expect(privateReplies(byBob).join()).toMatch(/Only the person who made this image, or a moderator/);
    expect(w.fake.message(w.channel.id, original.id)).toBeDefined();

    const byModerator = await w.fake.pressButton({ userId: w.moderator, channelId: w.channel.id, messageId: original.id, customId: 'imagine:delete' });
    await byModerator.waitForResponse();
    await w.fake.waitFor(() => w.fake.message(w.channel.id, original.id) === undefined || undefined);
  });
});
