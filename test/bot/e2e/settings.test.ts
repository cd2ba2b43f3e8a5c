import { describe, expect, it } from 'vitest';
import { dimensionsFor } from '../../../src/bot/jobs/sizes.ts';
import { embedField, imagine, privateReplies, settings, useWorld, waitForResult } from './harness.ts';

describe('/settings end to end', () => {
  const scene = useWorld();

  it('a moderator sets channel defaults, the next /imagine uses them, and they survive a restart', async () => {
    const w = scene.world;
    const first = await scene.startBot();
    const set = await settings(w, w.moderator, 'set', { steps: 6, size: 'landscape', scheduler: 'euler-a', negative: 'blurry', max_steps: 10 });
    const saved = await set.waitForResponse();
    expect(saved.ephemeral).toBe(true);
    expect(saved.data?.content).toBe('Saved.');

    const job = await imagine(w, w.alice, { prompt: 'a harbour' });
    const result = await waitForResult(w, job);
    expect(embedField(result, 'Steps')).toBe('6');
    const { nativeWidth, nativeHeight } = first.engine.info.model;
    const landscape = dimensionsFor('landscape', { width: nativeWidth, height: nativeHeight });
    expect(embedField(result, 'Size')).toBe(`${landscape.width}×${landscape.height}`);
    expect(embedField(result, 'Scheduler')).toBe('euler-a');
    expect(embedField(result, 'Negative')).toBe('blurry');

    // Explicit options win, within the channel's maximum.
    const explicit = await imagine(w, w.alice, { prompt: 'a harbour', steps: 8, size: 'square' });
    expect(embedField(await waitForResult(w, explicit), 'Steps')).toBe('8');
    const tooMany = await imagine(w, w.alice, { prompt: 'a harbour', steps: 11 });
    await tooMany.waitForResponse();
    expect(privateReplies(tooMany)).toEqual(['steps must be a whole number from 1 to 10 in this channel.']);

    await first.stop();
    await scene.startBot();
    const show = await settings(w, w.moderator, 'show');
    const shown = await show.waitForResponse();
    const fields = (shown.data?.embeds as Array<{ fields: Array<{ name: string; value: string }> }>)[0]?.fields ?? [];
    expect(fields.find((field) => field.name === 'Steps')?.value).toBe('6');
    expect(fields.find((field) => field.name === 'Maximum steps')?.value).toBe('10');
    const afterRestart = await imagine(w, w.bob, { prompt: 'a harbour at night' });
    expect(embedField(await waitForResult(w, afterRestart), 'Steps')).toBe('6');

    const reset = await settings(w, w.moderator, 'reset', { setting: 'steps' });
    expect((await reset.waitForResponse()).data?.content).toBe('Reset default steps.');
  });

  it('refuses non-moderators, privately, and changes nothing', async () => {
    const w = scene.world;
    await scene.startBot();
    const attempt = await settings(w, w.alice, 'set', { enabled: false });
    const reply = await attempt.waitForResponse();
    expect(reply.ephemeral).toBe(true);
    expect(reply.data?.content).toBe('Only members with the Manage Channels permission can use /settings.');
    const job = await imagine(w, w.alice, { prompt: 'still allowed', steps: 2 });
    await waitForResult(w, job);
  });

  it('turning the channel off refuses /imagine there', async () => {
    const w = scene.world;
    await scene.startBot();
    await (await settings(w, w.moderator, 'set', { enabled: false })).waitForResponse();
    const job = await imagine(w, w.alice, { prompt: 'a cat' });
    await job.waitForResponse();
    expect(privateReplies(job)).toEqual(['/imagine is turned off in this channel.']);
  });

  it('refuses contradictory settings', async () => {
    const w = scene.world;
    await scene.startBot();
    const attempt = await settings(w, w.moderator, 'set', { steps: 30, max_steps: 20 });
    await attempt.waitForResponse();
    expect(privateReplies(attempt)).toEqual(['Default steps (30) would be above the maximum steps (20).']);
  });
});
