import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { formatParameters, parseParameters } from '../../src/engine/output/parameters.ts';
import { encodePng, readTextChunks } from '../../src/engine/output/png.ts';
import type { ResolvedRequest } from '../../src/engine/types.ts';

const request: ResolvedRequest = {
  prompt: 'a lighthouse at dusk, oil painting',
  negativePrompt: 'blurry',
  seed: 4294967295,
  steps: 30,
  guidance: 7.5,
  scheduler: 'euler-a',
  width: 512,
  height: 768,
  count: 1,
};

describe('AUTOMATIC1111 parameters text', () => {
  it('has the prompt, the negative prompt and the settings line', () => {
    expect(formatParameters(request, 'tiny-sd')).toBe(
      'a lighthouse at dusk, oil painting\nNegative prompt: blurry\n' +
        'Steps: 30, Sampler: Euler a, CFG scale: 7.5, Seed: 4294967295, Size: 512x768, Model: tiny-sd',
    );
  });

  it('omits an empty negative prompt and reads back what it wrote', () => {
    const text = formatParameters({ ...request, negativePrompt: '', scheduler: 'dpm++2m-karras', count: 3 }, 'my, model');
    expect(text.split('\n')).toHaveLength(2);
    const parsed = parseParameters(text);
    expect(parsed.prompt).toBe(request.prompt);
    expect(parsed.negativePrompt).toBe('');
    expect(parsed.fields).toMatchObject({ Steps: '30', Sampler: 'DPM++ 2M Karras', 'CFG scale': '7.5', Seed: '4294967295', Size: '512x768', Model: 'my, model', 'Batch size': '3' });
  });

  it('keeps multi-line prompts apart from the negative prompt', () => {
    const parsed = parseParameters(formatParameters({ ...request, prompt: 'line one\nline two' }, 'm'));
    expect(parsed.prompt).toBe('line one\nline two');
    expect(parsed.negativePrompt).toBe('blurry');
  });
});

describe('PNG encoding', () => {
  const image = { width: 16, height: 8, data: Uint8Array.from({ length: 16 * 8 * 3 }, (_, i) => (i * 7) % 256) };

  it('decodes to the same pixels and carries a tEXt parameters chunk', async () => {
    const text = formatParameters(request, 'tiny-sd');
    const png = await encodePng(image, text);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 16, height: 8, channels: 3 });
    expect(Buffer.compare(data, Buffer.from(image.data))).toBe(0);
    expect(readTextChunks(png)).toEqual({ parameters: text });
    expect(png.includes(Buffer.from('tEXtparameters'))).toBe(true);
  });

  it('uses iTXt (UTF-8) for prompts outside Latin-1, as Pillow does', async () => {
    const text = formatParameters({ ...request, prompt: '富士山と桜 🌸' }, 'tiny-sd');
    const png = await encodePng(image, text);
    expect(png.includes(Buffer.from('iTXtparameters'))).toBe(true);
    expect(readTextChunks(png).parameters).toBe(text);
    // sharp (libvips/libpng) must still accept the file: the chunk CRCs are right.
    await expect(sharp(png).metadata()).resolves.toMatchObject({ width: 16, height: 8 });
  });
});
