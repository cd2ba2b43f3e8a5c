import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { END_OF_WORD, byteTable, initialSymbols, preTokenize } from '../../src/models/builder/bpe.ts';
import { buildTokenizer } from '../../src/models/builder/tokenizer-files.ts';

const tokenizer = buildTokenizer({ merges: 1000 });
const vocabJson = JSON.parse(tokenizer.files['vocab.json']!) as Record<string, number>;

/** Tokens by id (JSON.parse's object would list digit keys like "0" first, whatever the file order). */
function byId(vocab: Record<string, number>): [string, number][] {
  return Object.entries(vocab).sort((a, b) => a[1] - b[1]);
}
const mergeLines = tokenizer.files['merges.txt']!.split('\n');

/** The real CLIP files (read-only fixture), when this checkout has them. */
function clipFixture(file: string): string | undefined {
  for (const rel of ['../fixtures/parity-eps/tokenizer/', '../../../shared/fixtures/parity-eps/tokenizer/']) {
    const path = fileURLToPath(new URL(rel + file, import.meta.url));
    if (existsSync(path)) return readFileSync(path, 'utf8');
  }
  return undefined;
}

/** Reference slow-tokenizer BPE (lowest-rank pair first), as transformers' CLIPTokenizer.bpe does. */
function encodeWord(word: string, ranks: Map<string, number>): string[] {
  let symbols = initialSymbols(word, byteTable().encoder);
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const rank = ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
      if (rank !== undefined && rank < bestRank) [best, bestRank] = [i, rank];
    }
    if (best < 0) return symbols;
    const [a, b] = [symbols[best]!, symbols[best + 1]!];
    const next: string[] = [];
    for (let i = 0; i < symbols.length; i++) {
      if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) {
        next.push(a + b);
        i++;
      } else {
        next.push(symbols[i]!);
      }
    }
    symbols = next;
  }
}

describe('tokenizer files', () => {
  it('vocab.json: contiguous ids in CLIP order, special tokens last', () => {
    const entries = byId(vocabJson);
    expect(entries.map(([, id]) => id)).toEqual(entries.map((_, i) => i));
    // The file itself lists ids in order (tokens never contain spaces, so `": <id>` is unambiguous).
    const fileOrder = Array.from(tokenizer.files['vocab.json']!.matchAll(/": (\d+)[,}]/g), (m) => Number(m[1]));
    expect(fileOrder).toEqual(entries.map((_, i) => i));
    expect(entries.length).toBe(tokenizer.vocab.length);
    expect(entries.length).toBe(512 + tokenizer.merges.length + 2);
    const { order } = byteTable();
    expect(entries.slice(0, 256).map(([t]) => t)).toEqual(order);
    expect(entries.slice(256, 512).map(([t]) => t)).toEqual(order.map((c) => c + END_OF_WORD));
    expect(entries.slice(-2)).toEqual([
      ['<|startoftext|>', 512 + tokenizer.merges.length],
      ['<|endoftext|>', 513 + tokenizer.merges.length],
    ]);
    expect(tokenizer.merges.length).toBeGreaterThanOrEqual(500);
  });

  it('merges.txt: version header, one pair per line, each result the next vocab entry', () => {
    expect(mergeLines[0]).toBe('#version: 0.2');
    expect(mergeLines.at(-1)).toBe('');
    const pairs = mergeLines.slice(1, -1).map((l) => l.split(' '));
    expect(pairs.length).toBe(tokenizer.merges.length);
    pairs.forEach((pair, i) => {
      expect(pair.length).toBe(2);
      expect(vocabJson[pair[0]!]).toBeLessThan(512 + i);
      expect(vocabJson[pair[1]!]).toBeLessThan(512 + i);
      expect(vocabJson[pair[0]! + pair[1]!]).toBe(512 + i);
    });
  });

  it('matches the real CLIP files where they are fixed: byte tokens, header, configs', () => {
    const vocab = clipFixture('vocab.json');
    if (vocab === undefined) return;
    const clip = byId(JSON.parse(vocab) as Record<string, number>).slice(0, 512);
    expect(byId(vocabJson).slice(0, 512)).toEqual(clip);
    expect(clipFixture('merges.txt')!.split('\n')[0]).toBe(mergeLines[0]);
    expect(JSON.parse(tokenizer.files['tokenizer_config.json']!)).toEqual(JSON.parse(clipFixture('tokenizer_config.json')!));
    expect(JSON.parse(tokenizer.files['special_tokens_map.json']!)).toEqual(JSON.parse(clipFixture('special_tokens_map.json')!));
    // Same one-line `"token": id, ` layout as CLIP's vocab.json.
    expect(tokenizer.files['vocab.json']!.slice(0, 200)).toBe(vocab.slice(0, 200));
  });

  it('encodes prompts into vocabulary tokens, common prompt words whole', () => {
    const ranks = new Map(tokenizer.merges.map(([a, b], i) => [`${a} ${b}`, i]));
    const tokens = preTokenize('A photograph of an Astronaut riding a horse, highly detailed, 8k!').flatMap((w) => encodeWord(w, ranks));
    for (const t of tokens) expect(vocabJson[t], t).toBeDefined();
    for (const word of ['photograph</w>', 'astronaut</w>', 'horse</w>', 'highly</w>', 'detailed</w>', ',</w>', '8</w>']) {
      expect(tokens).toContain(word);
    }
    expect(preTokenize("it's 42 C°!!")).toEqual(['it', "'s", '4', '2', 'c', '°!!']);
  });

  it('is deterministic', () => {
    expect(buildTokenizer({ merges: 1000 }).files).toEqual(tokenizer.files);
    expect(buildTokenizer({ merges: 600 }).merges).toEqual(tokenizer.merges.slice(0, 600));
  });
});
