import { BOS_TOKEN, END_OF_WORD, EOS_TOKEN, byteTable, learnMerges } from './bpe.ts';
import { PROMPT_CORPUS } from './corpus.ts';
import type { TokenizerOptions } from './options.ts';

export interface TinyTokenizer {
  /** Tokens by id. */
  vocab: string[];
  merges: [string, string][];
  bosId: number;
  eosId: number;
  /** File name (inside tokenizer/) -> contents. */
  files: Record<string, string>;
}

export const MODEL_MAX_LENGTH = 77;

/** vocab.json as CLIP ships it: one line, `", "` / `": "` separators, non-ASCII left as is. */
function vocabJson(vocab: readonly string[]): string {
  return `{${vocab.map((token, id) => `${JSON.stringify(token)}: ${id}`).join(', ')}}`;
}

/**
 * A CLIPTokenizer folder with a small learned vocabulary, laid out like CLIP's: the 256 byte
 * symbols, the same with `</w>`, one token per merge in merge order, then BOS and EOS (so EOS has
 * the highest id, which the text encoder's pooling relies on, as CLIP's does).
 */
export function buildTokenizer(options: TokenizerOptions): TinyTokenizer {
  const { order } = byteTable();
  const base = [...order, ...order.map((c) => c + END_OF_WORD)];
  const merges = learnMerges(PROMPT_CORPUS, options.merges, new Set(base));
  const vocab = [...base, ...merges.map(([a, b]) => a + b), BOS_TOKEN, EOS_TOKEN];
  const special = { bos_token: BOS_TOKEN, eos_token: EOS_TOKEN, pad_token: EOS_TOKEN, unk_token: EOS_TOKEN };
  const config = {
    add_prefix_space: false,
    bos_token: BOS_TOKEN,
    do_lower_case: true,
    eos_token: EOS_TOKEN,
    errors: 'replace',
    model_max_length: MODEL_MAX_LENGTH,
    pad_token: EOS_TOKEN,
    tokenizer_class: 'CLIPTokenizer',
    unk_token: EOS_TOKEN,
  };
  return {
    vocab,
    merges,
    bosId: vocab.length - 2,
    eosId: vocab.length - 1,
    files: {
      'vocab.json': vocabJson(vocab),
      'merges.txt': `#version: 0.2\n${merges.map(([a, b]) => `${a} ${b}\n`).join('')}`,
      'tokenizer_config.json': `${JSON.stringify(config, null, 2)}\n`,
      'special_tokens_map.json': `${JSON.stringify(special, null, 2)}\n`,
    },
  };
}

/**
 * SDXL's tokenizer_2 folder: the same vocabulary and merges, padding with "!" (OpenCLIP's pad
 * token, id 0 in CLIP's byte table order) instead of the end token.
 */
export function secondTokenizerFiles(tokenizer: TinyTokenizer): Record<string, string> {
  const config = JSON.parse(tokenizer.files['tokenizer_config.json']!) as Record<string, unknown>;
  const special = JSON.parse(tokenizer.files['special_tokens_map.json']!) as Record<string, unknown>;
  return {
    ...tokenizer.files,
    'tokenizer_config.json': `${JSON.stringify({ ...config, pad_token: '!' }, null, 2)}\n`,
    'special_tokens_map.json': `${JSON.stringify({ ...special, pad_token: '!' }, null, 2)}\n`,
  };
}
