import { describe, expect, it } from 'vitest';
import { imagine, useWorld, waitForResult } from './harness.ts';

describe('prompt token limit end to end', () => {
  const scene = useWorld();

  it('a prompt past CLIP’s 77 tokens is not cut silently: the reply names the dropped words', async () => {
    const w = scene.world;
    await scene.startBot();
    // Far more than 75 tokens whatever the vocabulary: the first words are read, the last ones are not.
    const prompt = `a lighthouse ${'on a hill by the sea '.repeat(20)}under purple stars`;
    const long = await waitForResult(w, await imagine(w, w.alice, { prompt, steps: 1 }));
    const [mention, notice, quoted, ...rest] = long.content.split('\n');
    expect(mention).toBe(`<@${w.alice}>`);
    expect(notice).toBe('⚠️ The model reads at most 77 tokens, so these words were dropped:');
    expect(quoted).toMatch(/^> prompt: “.*under purple stars”$/);
    expect(quoted).not.toContain('lighthouse');
    expect(rest).toEqual([]);

    const short = await waitForResult(w, await imagine(w, w.alice, { prompt: 'a lighthouse under purple stars', steps: 1 }));
    expect(short.content).toBe(`<@${w.alice}>`);
  });
});
