import pino from 'pino';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fromWireJob, toWireJob, wireJobSchema } from '../../src/bot/jobs/bullmq/wire-job.ts';
import { journalRecord } from '../../src/bot/jobs/journaled-job-queue.ts';
import type { Job } from '../../src/bot/jobs/job.ts';
import type { DiscordMessenger } from '../../src/bot/delivery/discord-messenger.ts';
import type { ReplyTarget, ReplyTargetRecord } from '../../src/bot/delivery/reply-target.ts';
import { resultMessageBuilder } from '../../src/bot/delivery/result-message.ts';
import { effectivePolicy, policyRefusal, uncheckedModelRefusal, type SafetyHandling } from '../../src/bot/moderation/nsfw-policy.ts';
import type { GenerateResult } from '../../src/engine/types.ts';

const logger = pino({ level: 'silent' });

function jobWith(safety: SafetyHandling | undefined): Job {
  const address: ReplyTargetRecord = { kind: 'interaction', interactionToken: 'token', channelId: '2', ownerId: '3', createdAt: 5 };
  return {
    id: 'ab12',
    userId: '3',
    guildId: '1',
    channelId: '2',
    request: { prompt: 'a barn', seed: 9, steps: 4, guidance: 7.5, width: 64, height: 64, count: 2 },
    ...(safety ? { safety } : {}),
    reply: { record: () => address } as unknown as ReplyTarget,
    createdAt: 5,
    log: logger,
  };
}

const solid = (r: number, g: number, b: number) => sharp({ create: { width: 64, height: 64, channels: 3, background: { r, g, b } } }).png().toBuffer();

async function twoImages(flags: [boolean, boolean]): Promise<GenerateResult> {
  const pngs = [await solid(250, 0, 0), await solid(0, 0, 250)];
  return {
    request: { prompt: 'a barn', seed: 9, steps: 4, guidance: 7.5, width: 64, height: 64, count: 2, scheduler: 'euler' },
    images: pngs.map((png, index) => ({ png, nsfw: flags[index] })),
  } as unknown as GenerateResult;
}

describe('NSFW policy', () => {
  it('defaults to block outside age-restricted channels and spoiler inside; allow only where age-restricted', () => {
    expect(effectivePolicy({}, false)).toEqual({ policy: 'block', why: 'default' });
    expect(effectivePolicy({}, true)).toEqual({ policy: 'spoiler', why: 'default' });
    expect(effectivePolicy({ nsfw: 'allow' }, true)).toEqual({ policy: 'allow', why: 'set' });
    // A channel that lost its age restriction stops showing flagged images.
    expect(effectivePolicy({ nsfw: 'allow' }, false)).toEqual({ policy: 'block', why: 'allow-needs-age-restriction' });
    expect(effectivePolicy({ nsfw: 'spoiler' }, false)).toEqual({ policy: 'spoiler', why: 'set' });
    expect(policyRefusal('allow', false)).toContain('only for age-restricted channels');
    expect(policyRefusal('allow', true)).toBeUndefined();
    expect(policyRefusal('spoiler', false)).toBeUndefined();
  });

  it('lets a model without a safety checker draw outside age-restricted channels only with an allowance or the operator vouching', () => {
    const unchecked = { name: 'sdxl', capabilities: { textToImage: true, img2img: false, safetyChecker: false, unconditional: false } };
    const checked = { ...unchecked, name: 'sd15', capabilities: { ...unchecked.capabilities, safetyChecker: true } };
    expect(uncheckedModelRefusal(unchecked, {}, false, [])).toContain('sdxl has no safety checker');
    expect(uncheckedModelRefusal(unchecked, { uncheckedModels: true }, false, [])).toBeUndefined();
    expect(uncheckedModelRefusal(unchecked, {}, true, [])).toBeUndefined();
    expect(uncheckedModelRefusal(unchecked, {}, false, ['sdxl'])).toBeUndefined();
    expect(uncheckedModelRefusal(checked, {}, false, [])).toBeUndefined();
  });

  it('travels with the job through the journal and the BullMQ wire; a job without it is handled strictly', () => {
    const spoiler: SafetyHandling = { flagged: 'spoiler', dmWithheld: true };
    expect(JSON.parse(JSON.stringify(journalRecord(jobWith(spoiler)))).safety).toEqual(spoiler);
    expect(journalRecord(jobWith(undefined)).safety).toEqual({ flagged: 'block', dmWithheld: false });
    const wire = wireJobSchema.parse(JSON.parse(JSON.stringify(toWireJob(jobWith(spoiler), 'tiny', 9))));
    expect(fromWireJob(wire, {} as DiscordMessenger, logger).safety).toEqual(spoiler);
    const { safety: _dropped, ...older } = toWireJob(jobWith(spoiler), 'tiny', 9);
    expect(wireJobSchema.parse(older).safety).toEqual({ flagged: 'block', dmWithheld: false });
    expect(() => wireJobSchema.parse({ ...older, safety: { flagged: 'show', dmWithheld: false } })).toThrow();
  });

  it('withholds only the flagged picture of a grid: a grey tile in its place, no file and no buttons for it', async () => {
    const build = resultMessageBuilder(jobWith({ flagged: 'block', dmWithheld: true }), await twoImages([false, true]), { model: 'm', elapsedMs: 1, img2img: true });
    const message = await build(10 * 1024 * 1024);
    expect(message.files?.map((file) => file.name)).toEqual(['imagine-9-grid.webp', 'imagine-9-1.png']);
    expect(message.content).toContain('Image 2 was withheld');
    expect(message.content).toContain('Press 📩');
    const ids = (message.components ?? []).flatMap((row) => row.components.map((button) => ('custom_id' in button ? button.custom_id : '')));
    expect(ids).toContain('imagine:upscale:1');
    expect(ids).not.toContain('imagine:upscale:2');
    expect(ids).toContain('imagine:withheld:ab12');
    const grid = await sharp(message.files![0]!.data).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...grid.data.subarray((y * grid.info.width + x) * 3, (y * grid.info.width + x) * 3 + 3)];
    // Slot 1 is the red picture (enlarged to 256), slot 2 the grey tile, not the blue one.
    expect(pixel(10, 10)[0]).toBeGreaterThan(200);
    const tile = pixel(256 + 10, 10);
    expect(Math.max(...tile) - Math.min(...tile)).toBeLessThan(12);
    expect(tile[2]).toBeLessThan(150);
  });

  it('with spoiler, spoilers the flagged picture and the grid, and shows no picture in the embed', async () => {
    const build = resultMessageBuilder(jobWith({ flagged: 'spoiler', dmWithheld: false }), await twoImages([true, false]), { model: 'm', elapsedMs: 1, img2img: false });
    const message = await build(10 * 1024 * 1024);
    expect(message.files?.map((file) => file.name)).toEqual(['SPOILER_imagine-9-grid.webp', 'SPOILER_imagine-9-1.png', 'imagine-9-2.png']);
    expect(message.embeds?.[0]?.image).toBeUndefined();
    expect(message.content).toContain('Image 1 is behind a spoiler');
  });
});
