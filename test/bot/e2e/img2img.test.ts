import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { APIApplicationCommandInteractionDataOption } from 'discord.js';
import { DEFAULT_ATTACHMENT_LIMITS } from '../../../src/bot/attachments/fetch-attachment.ts';
import type { FakeAttachment } from '../../discord/fake-discord.ts';
import { embedField, options, privateReplies, useWorld, waitForResult, type World } from './harness.ts';

/** A solid-colour PNG of the given size. */
function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toBuffer();
}

function imagineWithImage(w: World, attachment: FakeAttachment, values: Record<string, string | number | undefined>) {
  const imageOption = { name: 'image', type: 11, value: attachment.id } as APIApplicationCommandInteractionDataOption;
  return w.fake.sendCommand({ userId: w.alice, guildId: w.guild.id, channelId: w.channel.id, name: 'imagine', options: [...options(values), imageOption] });
}

describe('/imagine image: (img2img from an attachment) end to end', () => {
  const scene = useWorld();

  it('runs img2img from the attached image with the given strength, and rerolls keep the image', async () => {
    const w = scene.world;
    const running = await scene.startBot();
    const { nativeWidth, nativeHeight } = running.engine.info.model;
    const data = await png(nativeWidth, nativeHeight);
    const attachment = w.fake.uploadAttachment({ filename: 'start.png', data });

    const interaction = await imagineWithImage(w, attachment, { prompt: 'a red barn', seed: 7, steps: 4, strength: 0.5 });
    const result = await waitForResult(w, interaction);
    const asked = running.engine.requests[0];
    expect(Buffer.from(asked?.initImage ?? new Uint8Array())).toEqual(data);
    expect(asked?.strength).toBe(0.5);
    expect(running.engine.completed[0]?.strength).toBe(0.5);
    expect(w.fake.attachmentDownloads).toEqual([new URL(attachment.url).pathname]);
    expect(embedField(result, 'Seed')).toBe('7');

    // A reroll after a restart starts from the same image: the job carried its id, not its bytes.
    await running.stop();
    const second = await scene.startBot();
    const press = await w.fake.pressButton({ userId: w.bob, channelId: w.channel.id, messageId: result.id, customId: 'imagine:reroll' });
    await press.waitForResponse();
    await w.fake.waitFor(() => second.engine.completed[0], { timeoutMs: 20_000 });
    expect(Buffer.from(second.engine.requests[0]?.initImage ?? new Uint8Array())).toEqual(data);
    expect(second.engine.requests[0]?.strength).toBe(0.5);
  });

  it('picks the shape closest to the image when no size is given', async () => {
    const w = scene.world;
    const running = await scene.startBot();
    const { nativeWidth, nativeHeight } = running.engine.info.model;
    const attachment = w.fake.uploadAttachment({ filename: 'wide.png', data: await png(nativeWidth * 2, nativeHeight) });
    const interaction = await imagineWithImage(w, attachment, { prompt: 'a wide field', steps: 2 });
    await waitForResult(w, interaction);
    const ran = running.engine.completed[0];
    expect(ran && ran.width > ran.height).toBe(true);
    expect(ran?.strength).toBe(0.8);
  });

  /** Sends the attachment, expects a private refusal matching `message`, and that nothing was queued. */
  async function expectRefused(w: World, attachment: FakeAttachment, message: RegExp): Promise<void> {
    const interaction = await imagineWithImage(w, attachment, { prompt: 'anything', steps: 2 });
    await w.fake.waitFor(() => privateReplies(interaction).find((text) => message.test(text)), {
      timeoutMs: 10_000,
      message: `a private reply matching ${String(message)}; got ${JSON.stringify(privateReplies(interaction))}`,
    });
    expect(w.fake.messages(w.channel.id).filter((m) => ((m.flags ?? 0) & 64) === 0 && /Queued|Generating|Starting/.test(m.content))).toEqual([]);
  }

  it('refuses, privately and before queueing, each bad attachment', async () => {
    const w = scene.world;
    const running = await scene.startBot({ attachmentLimits: { ...DEFAULT_ATTACHMENT_LIMITS, hosts: [new URL(w.fake.restUrl).host], maxBytes: 64 * 1024, maxPixels: 128 * 128 } });

    const text = w.fake.uploadAttachment({ filename: 'notes.txt', data: Buffer.from('not a picture'), contentType: 'text/plain' });
    await expectRefused(w, text, /notes\.txt is not a PNG, JPEG or WebP image/);
    // Declared as PNG, but the bytes say otherwise: caught after download.
    const disguised = w.fake.uploadAttachment({ filename: 'fake.png', data: Buffer.from('GIF89a but really just text'), contentType: 'image/png' });
    await expectRefused(w, disguised, /fake\.png is not a PNG, JPEG or WebP image/);
    const large = w.fake.uploadAttachment({ filename: 'large.png', data: Buffer.alloc(65 * 1024, 1), contentType: 'image/png' });
    await expectRefused(w, large, /large\.png is 0\.1 MiB: images may be at most 0\.1 MiB/);
    const huge = w.fake.uploadAttachment({ filename: 'huge.png', data: await png(200, 200) });
    await expectRefused(w, huge, /huge\.png is 200×200: images may have at most/);

    expect(running.engine.requests).toEqual([]);
    expect(w.fake.attachmentDownloads).not.toContain(new URL(text.url).pathname);
    expect(w.fake.attachmentDownloads).not.toContain(new URL(large.url).pathname);
  });

  it('fetches only from the accepted hosts', async () => {
    const w = scene.world;
    // The loopback CDN is not an accepted host here, as it would not be in production.
    const running = await scene.startBot({ attachmentLimits: DEFAULT_ATTACHMENT_LIMITS });
    const attachment = w.fake.uploadAttachment({ filename: 'elsewhere.png', data: await png(32, 32) });
    await expectRefused(w, attachment, /elsewhere\.png is not on Discord's attachment servers/);
    expect(w.fake.attachmentDownloads).toEqual([]);
    expect(running.engine.requests).toEqual([]);
  });

  it('refuses strength without an image', async () => {
    const w = scene.world;
    const running = await scene.startBot();
    const interaction = await w.fake.sendCommand({ userId: w.alice, guildId: w.guild.id, channelId: w.channel.id, name: 'imagine', options: options({ prompt: 'x', strength: 0.5 }) });
    await w.fake.waitFor(() => privateReplies(interaction).find((text) => /strength applies only with an image/.test(text)), { timeoutMs: 10_000 });
    expect(running.engine.requests).toEqual([]);
  });
});
