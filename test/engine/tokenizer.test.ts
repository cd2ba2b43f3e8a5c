import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipTokenizerJson, loadClipTokenizer, type PromptTokenizer } from '../../src/engine/tokenizer/clip-tokenizer.ts';
import { EngineError } from '../../src/engine/types.ts';
import { fixtureDir } from './fixtures.ts';

const TOKENIZER = join(fixtureDir('parity-eps'), 'tokenizer');

describe('CLIP tokenizer from vocab.json + merges.txt', () => {
  let tokenizer: PromptTokenizer;
  beforeAll(async () => {
    tokenizer = await loadClipTokenizer(TOKENIZER);
  });

  it('gives the ids openai/clip-vit-large-patch14 gives', () => {
    const ids = tokenizer.encode('A photo of an astronaut riding a horse on Mars');
    expect(ids.slice(0, 12)).toEqual([49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407]);
  });

  it('pads to model_max_length with the pad token from the config', () => {
    const ids = tokenizer.encode('');
    expect(tokenizer.maxLength).toBe(77);
    expect(ids).toHaveLength(77);
    expect(ids[0]).toBe(49406);
    expect(ids.slice(1).every((id) => id === 49407)).toBe(true);
  });

  it('truncates long prompts but keeps the end token, as transformers does', () => {
    const ids = tokenizer.encode('cat '.repeat(200));
    expect(ids).toHaveLength(77);
    expect(ids[75]).toBe(2368);
    expect(ids[76]).toBe(49407);
  });

  it('names the text past the limit: what the encoder never reads', () => {
    // Each word of this sentence is one CLIP token (see the ids above), so 75 tokens fit 7.5 sentences.
    const sentence = 'A photo of an astronaut riding a horse on Mars';
    expect(tokenizer.overflow(Array(8).fill(sentence).join(' '))).toBe('riding a horse on mars');
    expect(tokenizer.overflow(`${Array(7).fill(sentence).join(' ')} a photo of an astronaut`)).toBe('');
    expect(tokenizer.overflow(sentence)).toBe('');
  });

  it('folds whitespace and case, and splits punctuation', () => {
    expect(tokenizer.encode('HELLO   World!!')).toEqual(tokenizer.encode('hello world!!'));
  });
});

describe('CLIP tokenizer from tokenizer.json', () => {
  it('gives the same ids as the vocab.json + merges.txt folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'imagine-fast-tok-'));
    try {
      const vocab = JSON.parse(await readFile(join(TOKENIZER, 'vocab.json'), 'utf8')) as Record<string, number>;
      const merges = (await readFile(join(TOKENIZER, 'merges.txt'), 'utf8')).split('\n').slice(1).filter((line) => line.length > 0);
      const config = JSON.parse(await readFile(join(TOKENIZER, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
      // Only tokenizer.json and the config: the slow files are absent, so the fast path must be taken.
      await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(clipTokenizerJson(vocab, merges, config, dir)));
      await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
      const fast = await loadClipTokenizer(dir);
      const slow = await loadClipTokenizer(TOKENIZER);
      for (const prompt of ['A photo of an astronaut riding a horse on Mars', '', 'cat '.repeat(100), 'naïve café, 4k!']) {
        expect(fast.encode(prompt)).toEqual(slow.encode(prompt));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('tokenizer folder problems name the file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'imagine-tok-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function broken(name: string, file: string, content: string | undefined): Promise<string> {
    const target = join(dir, name);
    await cp(TOKENIZER, target, { recursive: true });
    if (content === undefined) await rm(join(target, file));
    else await writeFile(join(target, file), content);
    return target;
  }

  const cases: [string, string, string | undefined, RegExp][] = [
    ['missing merges', 'merges.txt', undefined, /merges\.txt: file is missing/],
    ['empty merges', 'merges.txt', '#version: 0.2\n', /merges\.txt: has no merges/],
    ['truncated vocab', 'vocab.json', '{"a": 1, "b', /vocab\.json: is not valid JSON/],
    ['vocab not a map', 'vocab.json', '[1, 2]', /vocab\.json: is not a token → id map/],
    ['config without max length', 'tokenizer_config.json', '{"bos_token":"<|startoftext|>","eos_token":"<|endoftext|>"}', /tokenizer_config\.json: model_max_length/],
    ['unknown pad token', 'tokenizer_config.json', '{"model_max_length":77,"bos_token":"<|startoftext|>","eos_token":"<|endoftext|>","pad_token":"<pad>"}', /pad token <pad> is not in the vocabulary/],
  ];
  for (const [name, file, content, message] of cases) {
    it(name, async () => {
      const target = await broken(name.replace(/ /g, '-'), file, content);
      const error = await loadClipTokenizer(target).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe('model-invalid');
      expect((error as EngineError).message).toMatch(message);
      expect((error as EngineError).message).toContain(target);
    });
  }
});
