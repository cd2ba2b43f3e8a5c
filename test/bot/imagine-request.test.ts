import { describe, expect, it } from 'vitest';
import { findBannedWord, parseWordList } from '../../src/bot/settings/banned-words.ts';
import { DEFAULT_CHANNEL_SETTINGS, type ChannelSettings } from '../../src/bot/settings/channel-settings.ts';
import { resolveImagineRequest, type ImagineOptions } from '../../src/bot/jobs/imagine-request.ts';
import { dimensionsFor } from '../../src/bot/jobs/sizes.ts';
import type { ServedModel } from '../../src/bot/models/served-models.ts';

const native = { width: 512, height: 512 };
const capabilities = { textToImage: true, img2img: true, safetyChecker: false, unconditional: false };
const sd: ServedModel = { name: 'sd', family: 'sd', nativeWidth: 512, nativeHeight: 512, capabilities };
const models = { models: [sd], defaultModel: 'sd' };
const channel = (overrides: Partial<ChannelSettings> = {}): ChannelSettings => ({ ...DEFAULT_CHANNEL_SETTINGS, bannedWords: [], ...overrides });

function resolve(options: Partial<ImagineOptions>, settings: ChannelSettings = channel()) {
  return resolveImagineRequest({ prompt: 'a cat', ...options }, settings, models);
}

function refusal(options: Partial<ImagineOptions>, settings?: ChannelSettings): string {
  const result = resolve(options, settings);
  if (result.ok) throw new Error('expected a refusal');
  return result.message;
}

describe('sizes', () => {
  it('derives portrait and landscape from the native size', () => {
    expect(dimensionsFor('square', native)).toEqual({ width: 512, height: 512 });
    expect(dimensionsFor('portrait', native)).toEqual({ width: 512, height: 768 });
    expect(dimensionsFor('landscape', native)).toEqual({ width: 768, height: 512 });
    expect(dimensionsFor('portrait', { width: 64, height: 64 })).toEqual({ width: 64, height: 96 });
    expect(dimensionsFor('landscape', { width: 200, height: 200 }).width % 8).toBe(0);
  });
});

describe('resolveImagineRequest', () => {
  it('fills the engine defaults when neither user nor channel says otherwise', () => {
    expect(resolve({})).toEqual({
      ok: true,
      request: { prompt: 'a cat', steps: 25, guidance: 7.5, width: 512, height: 512, count: 1, model: 'sd' },
    });
  });

  it('passes explicit options through', () => {
    const result = resolve({ negative: 'blurry', seed: 4294967295, steps: 30, guidance: 0, size: 'landscape', scheduler: 'euler-a', count: 4 });
    expect(result).toEqual({
      ok: true,
      request: { prompt: 'a cat', negativePrompt: 'blurry', seed: 4294967295, steps: 30, guidance: 0, scheduler: 'euler-a', width: 768, height: 512, count: 4, model: 'sd' },
    });
  });

  it.each([
    [{ seed: -1 }, 'seed must be a whole number from 0 to 4294967295.'],
    [{ seed: 4294967296 }, 'seed must be a whole number from 0 to 4294967295.'],
    [{ steps: 0 }, 'steps must be a whole number from 1 to 150.'],
    [{ steps: 151 }, 'steps must be a whole number from 1 to 150.'],
    [{ steps: 2.5 }, 'steps must be a whole number from 1 to 150.'],
    [{ guidance: 31 }, 'guidance must be a number from 0 to 30.'],
    [{ guidance: Number.NaN }, 'guidance must be a number from 0 to 30.'],
    [{ count: 5 }, 'count must be a whole number from 1 to 4.'],
    [{ size: 'huge' }, 'size must be square, portrait or landscape.'],
    [{ scheduler: 'magic' }, /^scheduler must be one of ddim, ddpm, pndm, lms, euler, euler-a, heun, dpm\+\+2m, dpm\+\+2m-karras, unipc, lcm\.$/],
    [{ prompt: '   ' }, 'The prompt is empty: describe the image you want.'],
    [{ prompt: 'x'.repeat(1001) }, 'The prompt is too long: at most 1000 characters.'],
  ])('refuses %j saying what is allowed', (options, message) => {
    if (typeof message === 'string') expect(refusal(options)).toBe(message);
    else expect(refusal(options)).toMatch(message);
  });

  it('uses channel defaults for options the user left out', () => {
    const settings = channel({ steps: 12, guidance: 4, size: 'portrait', scheduler: 'lcm', negative: 'ugly' });
    expect(resolve({}, settings)).toEqual({
      ok: true,
      request: { prompt: 'a cat', negativePrompt: 'ugly', steps: 12, guidance: 4, scheduler: 'lcm', width: 512, height: 768, count: 1, model: 'sd' },
    });
  });

  it('lets explicit options override channel defaults', () => {
    const settings = channel({ steps: 12, guidance: 4, size: 'portrait', scheduler: 'lcm', negative: 'ugly' });
    const result = resolve({ steps: 20, guidance: 9, size: 'square', scheduler: 'ddim', negative: 'dark' }, settings);
    expect(result).toMatchObject({ ok: true, request: { steps: 20, guidance: 9, width: 512, height: 512, scheduler: 'ddim', negativePrompt: 'dark' } });
  });

  it('refuses explicit values above the channel maxima, naming the maximum', () => {
    const settings = channel({ maxSteps: 20, maxCount: 2 });
    expect(refusal({ steps: 21 }, settings)).toBe('steps must be a whole number from 1 to 20 in this channel.');
    expect(refusal({ count: 3 }, settings)).toBe('count must be a whole number from 1 to 2 in this channel.');
    expect(resolve({ steps: 20, count: 2 }, settings).ok).toBe(true);
  });

  it('keeps the default steps within a channel maximum below the engine default', () => {
    expect(resolve({}, channel({ maxSteps: 10 }))).toMatchObject({ ok: true, request: { steps: 10 } });
  });

  it('refuses everything in a disabled channel', () => {
    expect(refusal({}, channel({ enabled: false }))).toBe('/imagine is turned off in this channel.');
  });

  it('refuses prompts with banned words, whole-word and case-insensitively', () => {
    const settings = channel({ bannedWords: ['gore', 'red paint'] });
    expect(refusal({ prompt: 'A lot of GORE.' }, settings)).toBe('Your prompt contains “gore”, which is not allowed in this channel.');
    expect(refusal({ prompt: 'splashes of Red  Paint everywhere' }, settings)).toMatch(/red paint/);
    expect(resolve({ prompt: 'a gorewood forest, red painting' }, settings).ok).toBe(true);
  });
});

describe('banned words', () => {
  it('matches whole words only, including non-ASCII ones', () => {
    expect(findBannedWord('Café au lait', ['café'])).toBe('café');
    expect(findBannedWord('cafés', ['café'])).toBeUndefined();
    expect(findBannedWord('a (cat)', ['cat'])).toBe('cat');
    expect(findBannedWord('c.t', ['c.t'])).toBe('c.t');
    expect(findBannedWord('cat', ['c.t', '  '])).toBeUndefined();
  });

  it('parses comma-separated lists without blanks or duplicates', () => {
    expect(parseWordList(' gore,  Gore , ,red   paint ')).toEqual(['gore', 'red paint']);
  });
});

describe('model choice', () => {
  const xl: ServedModel = { name: 'xl', family: 'sdxl', nativeWidth: 1024, nativeHeight: 1024, capabilities };
  const ddpm: ServedModel = { name: 'ddpm', family: 'unconditional', nativeWidth: 32, nativeHeight: 32, capabilities: { ...capabilities, textToImage: false, unconditional: true } };
  const served = { models: [sd, xl, ddpm], defaultModel: 'sd' };
  const pick = (options: Partial<ImagineOptions>, settings = channel(), prefs = {}) =>
    resolveImagineRequest({ prompt: 'a cat', ...options }, settings, { ...served, prefs });

  it('gives SDXL its aspect buckets of about its native area', () => {
    expect(dimensionsFor('square', { width: 1024, height: 1024, family: 'sdxl' })).toEqual({ width: 1024, height: 1024 });
    expect(dimensionsFor('portrait', { width: 1024, height: 1024, family: 'sdxl' })).toEqual({ width: 896, height: 1152 });
    expect(dimensionsFor('landscape', { width: 1024, height: 1024, family: 'sdxl' })).toEqual({ width: 1152, height: 896 });
  });

  it('sizes follow the chosen model', () => {
    const result = pick({ model: 'xl', size: 'portrait' });
    expect(result.ok && result.request).toMatchObject({ model: 'xl', width: 896, height: 1152 });
    const fallback = pick({ size: 'portrait' });
    expect(fallback.ok && fallback.request).toMatchObject({ model: 'sd', width: 512, height: 768 });
  });

  it('refuses unknown, prompt-less and disallowed models, naming those allowed', () => {
    const refused = (result: ReturnType<typeof pick>) => (result.ok ? 'accepted' : result.message);
    expect(refused(pick({ model: 'nope' }))).toBe('There is no model “nope”. Models here: sd, xl.');
    expect(refused(pick({ model: 'ddpm' }))).toBe('ddpm draws without a prompt, so /imagine cannot use it.');
    expect(refused(pick({ model: 'sd' }, channel({ allowedModels: ['xl'] })))).toBe('sd is not allowed in this channel. Models here: xl.');
  });

  it('prefers the member’s model, then the channel’s, then the bot’s, among those allowed here', () => {
    const modelOf = (result: ReturnType<typeof pick>) => (result.ok ? result.request.model : result.message);
    expect(modelOf(pick({}, channel({ model: 'xl' })))).toBe('xl');
    expect(modelOf(pick({}, channel({ model: 'sd' }), { model: 'xl' }))).toBe('xl');
    // A preference the channel does not allow gives way to the channel's choice instead of failing.
    expect(modelOf(pick({}, channel({ model: 'sd', allowedModels: ['sd'] }), { model: 'xl' }))).toBe('sd');
    expect(modelOf(pick({}, channel({ allowedModels: ['xl'] })))).toBe('xl');
  });

  it('keeps preferences within the channel’s limits instead of refusing them', () => {
    const result = pick({}, channel({ maxSteps: 10, steps: 5 }), { steps: 40, size: 'landscape', scheduler: 'heun' });
    expect(result.ok && result.request).toMatchObject({ steps: 10, width: 768, height: 512, scheduler: 'heun' });
    const explicit = pick({ steps: 3, size: 'square' }, channel(), { steps: 40, size: 'landscape' });
    expect(explicit.ok && explicit.request).toMatchObject({ steps: 3, width: 512, height: 512 });
  });
});

describe('img2img options', () => {
  const image = { width: 512, height: 512 };

  it('takes the strength with an image, and diffusers’ 0.8 when none is given', () => {
    expect(resolve({ image, strength: 0.5 })).toMatchObject({ ok: true, request: { strength: 0.5 } });
    expect(resolve({ image })).toMatchObject({ ok: true, request: { strength: 0.8 } });
    expect(resolve({}).ok && 'strength' in (resolve({}) as { request: object }).request).toBe(false);
  });

  it('picks the shape nearest the image unless a size is given', () => {
    expect(resolve({ image: { width: 900, height: 600 } })).toMatchObject({ ok: true, request: { width: 768, height: 512 } });
    expect(resolve({ image: { width: 600, height: 900 } })).toMatchObject({ ok: true, request: { width: 512, height: 768 } });
    expect(resolve({ image: { width: 900, height: 600 }, size: 'square' })).toMatchObject({ ok: true, request: { width: 512, height: 512 } });
  });

  it.each([
    [{ strength: 0.5 }, 'strength applies only with an image to start from.'],
    [{ image, strength: 0.01 }, 'strength must be a number from 0.05 to 1.'],
    [{ image, strength: 1.5 }, 'strength must be a number from 0.05 to 1.'],
    [{ image, strength: 0.2, steps: 4 }, 'With strength 0.2, 4 steps leave none to run: raise the steps or the strength.'],
  ])('refuses %o', (options, message) => {
    expect(resolve(options)).toEqual({ ok: false, message });
  });

  it('checks img2img against the chosen model, not the default one', () => {
    const textOnly: ServedModel = { name: 'text-only', family: 'sd', nativeWidth: 512, nativeHeight: 512, capabilities: { ...capabilities, img2img: false } };
    const served = { models: [sd, textOnly], defaultModel: 'sd' };
    expect(resolveImagineRequest({ prompt: 'a cat', image, model: 'text-only' }, channel(), served)).toEqual({
      ok: false,
      message: 'text-only cannot start from an image (it has no VAE encoder).',
    });
    expect(resolveImagineRequest({ prompt: 'a cat', model: 'text-only' }, channel(), served).ok).toBe(true);
    expect(resolveImagineRequest({ prompt: 'a cat', image }, channel(), served)).toMatchObject({ ok: true, request: { model: 'sd', strength: 0.8 } });
  });
});
