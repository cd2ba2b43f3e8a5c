import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { FakeMessage } from '../../discord/fake-discord.ts';
import { embedField, imagine, isResult, privateReplies, useWorld, waitForResult, type World } from './harness.ts';

/** Custom ids of every button on a message, row by row. */
function buttonIds(message: FakeMessage): string[][] {
  return (message.components ?? []).map((row) => ('components' in row ? row.components : []).map((button) => ('custom_id' in button ? String(button.custom_id) : '')));
}

/** Results in the channel that reply to `parentId`. */
function childrenOf(w: World, parentId: string): FakeMessage[] {
  return w.fake.messages(w.channel.id).filter((message) => message.message_reference?.message_id === parentId && isResult(message));
}

describe('result buttons end to end: 🎨 variations, ⬆️ upscale, ✏️ edit, per-image buttons', () => {
  const scene = useWorld();

  async function firstResult(w: World, count?: number): Promise<FakeMessage> {
    const interaction = await imagine(w, w.alice, { prompt: 'a lighthouse', seed: 42, steps: 3, ...(count ? { count } : {}) });
    return waitForResult(w, interaction, 40_000);
  }

  it('🎨 starts img2img from the result image with a new seed, as a reply to it', async () => {
    const w = scene.world;
    const running = await scene.startBot();
    const original = await firstResult(w);
    expect(buttonIds(original)).toEqual([['imagine:reroll', 'imagine:vary:1', 'imagine:upscale:1', 'imagine:edit', 'imagine:delete']]);

    const press = await w.fake.pressButton({ userId: w.bob, channelId: w.channel.id, messageId: original.id, customId: 'imagine:vary:1' });
    expect((await press.waitForResponse()).type).toBe(6);
    const variation = await w.fake.waitFor(() => childrenOf(w, original.id)[0], { timeoutMs: 30_000 });
    const asked = running.engine.requests[1];
    expect(Buffer.from(asked?.initImage ?? new Uint8Array())).toEqual(original.attachments[0]?.data);
    expect(asked?.strength).toBe(0.6);
    expect(asked?.seed).not.toBe(42);
    expect(embedField(variation, 'Prompt')).toBe('a lighthouse');
    expect(variation.content).toContain(`<@${w.bob}>`);
  });

  it('⬆️ and ✏️ work on a result made before a restart', async () => {
    const w = scene.world;
    const first = await scene.startBot();
    const original = await firstResult(w);
    const { width, height } = (await sharp(original.attachments[0]!.data).metadata()) as { width: number; height: number };
    await first.stop();
    const second = await scene.startBot();

    const upscale = await w.fake.pressButton({ userId: w.alice, channelId: w.channel.id, messageId: original.id, customId: 'imagine:upscale:1' });
    await upscale.waitForResponse();
    const upscaled = await w.fake.waitFor(() => childrenOf(w, original.id)[0], { timeoutMs: 40_000 });
    const size = await sharp(upscaled.attachments[0]!.data).metadata();
    expect({ width: size.width, height: size.height }).toEqual({ width: width * 2, height: height * 2 });
    expect(second.engine.requests[0]?.strength).toBe(0.3);
    expect(second.engine.requests[0]?.seed).toBe(42);

    const edit = await w.fake.pressButton({ userId: w.bob, channelId: w.channel.id, messageId: original.id, customId: 'imagine:edit' });
    const modal = await edit.waitForResponse();
    expect(modal.type).toBe(9);
    expect(JSON.stringify(modal.data)).toContain('"value":"a lighthouse"');
    const customId = String((modal.data as { custom_id?: unknown }).custom_id);
    const submit = await w.fake.submitModal({
      userId: w.bob,
      channelId: w.channel.id,
      messageId: original.id,
      customId,
      fields: { prompt: 'a lighthouse at night', negative: 'fog' },
    });
    expect((await submit.waitForResponse()).type).toBe(6);
    const edited = await w.fake.waitFor(() => childrenOf(w, original.id).find((m) => embedField(m, 'Prompt') === 'a lighthouse at night'), { timeoutMs: 30_000 });
    expect(embedField(edited, 'Seed')).toBe('42');
    expect(second.engine.requests[1]?.negativePrompt).toBe('fog');
    expect(second.engine.requests[1]?.initImage).toBeUndefined();
  });

  it('the edit modal refuses an empty prompt, privately', async () => {
    const w = scene.world;
    const running = await scene.startBot();
    const original = await firstResult(w);
    const submit = await w.fake.submitModal({ userId: w.bob, channelId: w.channel.id, messageId: original.id, customId: `imagine:edit-modal:${original.id}`, fields: { prompt: '  ', negative: '' } });
    await w.fake.waitFor(() => privateReplies(submit).find((text) => /prompt is empty/.test(text)), { timeoutMs: 10_000 });
    expect(running.engine.requests).toHaveLength(1);
  });

  it('count > 1: one grid image shown, the separate PNGs, and U/V buttons per image, each starting from its own image', async () => {
    const w = scene.world;
    const running = await scene.startBot();
    const original = await firstResult(w, 2);
    const names = original.attachments.map((file) => file.filename);
    expect(names).toEqual(['imagine-42-grid.webp', 'imagine-42-1.png', 'imagine-42-2.png']);
    expect(original.embeds?.[0]?.image?.url).toBe(original.attachments[0]?.url);
    const one = await sharp(original.attachments[1]!.data).metadata();
    const grid = await sharp(original.attachments[0]!.data).metadata();
    expect({ width: grid.width, height: grid.height }).toEqual({ width: one.width! * 2, height: one.height });
    // The downloads keep their parameters chunk (PNG text), so they can be remade.
    expect(original.attachments[1]!.data.includes(Buffer.from('parameters'))).toBe(true);
    expect(buttonIds(original).slice(1)).toEqual([
      ['imagine:upscale:1', 'imagine:upscale:2'],
      ['imagine:vary:1', 'imagine:vary:2'],
    ]);
    const second = original.attachments.find((file) => /-2\.png$/.test(file.filename));
    expect(second).toBeDefined();
    const press = await w.fake.pressButton({ userId: w.alice, channelId: w.channel.id, messageId: original.id, customId: 'imagine:vary:2' });
    await press.waitForResponse();
    await w.fake.waitFor(() => childrenOf(w, original.id)[0], { timeoutMs: 30_000 });
    expect(Buffer.from(running.engine.requests[1]?.initImage ?? new Uint8Array())).toEqual(second?.data);
    expect(running.engine.requests[1]?.count).toBe(1);
  });
});
