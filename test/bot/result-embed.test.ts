import { describe, expect, it } from 'vitest';
import { buildResultEmbed, formatDuration } from '../../src/bot/delivery/result-embed.ts';
import type { ResolvedRequest } from '../../src/engine/types.ts';

const request: ResolvedRequest = {
  prompt: 'a lighthouse at dusk',
  negativePrompt: 'blurry',
  seed: 1234567890,
  steps: 25,
  guidance: 7.5,
  scheduler: 'dpm++2m-karras',
  width: 512,
  height: 768,
  count: 1,
};

describe('buildResultEmbed', () => {
  it('shows every parameter needed to reproduce the image', () => {
    const embed = buildResultEmbed({ request, model: 'tiny-sd', elapsedMs: 12_345, jobId: 'abcd1234', imageName: 'imagine-1234567890.png' });
    const fields = Object.fromEntries((embed.fields ?? []).map((field) => [field.name, field.value]));
    expect(fields).toEqual({
      Prompt: 'a lighthouse at dusk',
      Negative: 'blurry',
      Seed: '1234567890',
      Steps: '25',
      Guidance: '7.5',
      Scheduler: 'dpm++2m-karras',
      Size: '512×768',
      Model: 'tiny-sd',
      Time: '12.3 s',
    });
    expect(embed.title).toBe('a lighthouse at dusk');
    expect(embed.image?.url).toBe('attachment://imagine-1234567890.png');
    expect(embed.footer?.text).toContain('abcd1234');
  });

  it('leaves out an empty negative prompt and notes counts and parents', () => {
    const embed = buildResultEmbed({
      request: { ...request, negativePrompt: '', count: 3 },
      model: 'm',
      elapsedMs: 500,
      jobId: 'j',
      parentUrl: 'https://discord.com/channels/1/2/3',
    });
    const names = (embed.fields ?? []).map((field) => field.name);
    expect(names).not.toContain('Negative');
    expect(names).toContain('Images');
    expect(names).toContain('Reroll of');
    expect(embed.image).toBeUndefined();
  });

  it('keeps within Discord limits for long prompts', () => {
    const embed = buildResultEmbed({ request: { ...request, prompt: 'x'.repeat(3000) }, model: 'm', elapsedMs: 1, jobId: 'j' });
    expect(embed.title?.length).toBe(256);
    expect(embed.fields?.[0]?.value.length).toBe(1024);
  });

  it('formats durations', () => {
    expect(formatDuration(1500)).toBe('1.5 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
  });
});
