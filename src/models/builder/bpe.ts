/**
 * CLIP's byte-level BPE, the learning half: the byte-to-unicode table, CLIP's pre-tokenizer and
 * merge learning. Tokens are GPT-2 "printable byte" strings; a word's last symbol carries `</w>`.
 */

export const END_OF_WORD = '</w>';
export const BOS_TOKEN = '<|startoftext|>';
export const EOS_TOKEN = '<|endoftext|>';

/**
 * GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes for
 * U+0100 onwards. `order` is the table in CLIP's vocab order (ids 0-255); `encoder[byte]` the stand-in.
 */
export function byteTable(): { order: string[]; encoder: string[] } {
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const codes = [...bytes];
  for (let b = 0, extra = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      codes.push(256 + extra++);
    }
  }
  const order = codes.map((c) => String.fromCharCode(c));
  const encoder = new Array<string>(256);
  bytes.forEach((b, i) => (encoder[b] = order[i]!));
  return { order, encoder };
}

/** CLIPTokenizer's split (after lower-casing and whitespace cleanup); digits are single tokens. */
const CLIP_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

export function preTokenize(text: string): string[] {
  const clean = text.replace(/\s+/g, ' ').trim().toLowerCase();
  return clean.match(CLIP_PATTERN) ?? [];
}

/** A pre-token as BPE's initial symbols: its UTF-8 bytes as stand-in chars, `</w>` on the last. */
export function initialSymbols(word: string, encoder: readonly string[]): string[] {
  const symbols = Array.from(new TextEncoder().encode(word), (b) => encoder[b]!);
  symbols[symbols.length - 1] += END_OF_WORD;
  return symbols;
}

/**
 * Learns up to `maxMerges` merges: repeatedly merges the most frequent adjacent pair (ties broken
 * by the pair's text, so the result never depends on Map order). Pairs whose merged text is
 * already a token are never chosen, so every merge adds exactly one new vocab entry and ids stay
 * contiguous, as in CLIP's files.
 */
export function learnMerges(corpus: string, maxMerges: number, baseVocab: ReadonlySet<string>): [string, string][] {
  const { encoder } = byteTable();
  const frequency = new Map<string, number>();
  for (const w of preTokenize(corpus)) frequency.set(w, (frequency.get(w) ?? 0) + 1);
  const words = [...frequency.keys()].sort();
  const symbols = words.map((w) => initialSymbols(w, encoder));
  const counts = words.map((w) => frequency.get(w)!);

  const pairCounts = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const update = (wi: number, sign: 1 | -1): void => {
    const s = symbols[wi]!;
    for (let k = 0; k + 1 < s.length; k++) {
      // Symbols never contain a space (bytes 0x20 map to 'Ġ'), so a space can separate the pair.
      const key = `${s[k]} ${s[k + 1]}`;
      const next = (pairCounts.get(key) ?? 0) + sign * counts[wi]!;
      if (next > 0) pairCounts.set(key, next);
      else pairCounts.delete(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (set === undefined) pairWords.set(key, (set = new Set()));
        set.add(wi);
      }
    }
  };
  for (let wi = 0; wi < words.length; wi++) update(wi, 1);

  const vocab = new Set(baseVocab);
  const blocked = new Set<string>();
  const merges: [string, string][] = [];
  while (merges.length < maxMerges) {
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (blocked.has(key)) continue;
      if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const space = best.indexOf(' ');
    const a = best.slice(0, space);
    const b = best.slice(space + 1);
    const merged = a + b;
    if (vocab.has(merged)) {
      blocked.add(best);
      continue;
    }
    vocab.add(merged);
    merges.push([a, b]);
    for (const wi of [...(pairWords.get(best) ?? [])]) {
      const s = symbols[wi]!;
      update(wi, -1);
      const out: string[] = [];
      for (let k = 0; k < s.length; k++) {
        if (k + 1 < s.length && s[k] === a && s[k + 1] === b) {
          out.push(merged);
          k++;
        } else {
          out.push(s[k]!);
        }
      }
      symbols[wi] = out;
      update(wi, 1);
    }
    pairWords.delete(best);
  }
  return merges;
}
