import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLIPTokenizer } from '@huggingface/transformers';
import { ModelFileError, readJsonFile } from '../model/files.ts';

/** What the text encoder needs from a prompt: fixed-length ids, as diffusers' pipeline pads them. */
export interface PromptTokenizer {
  readonly maxLength: number;
  /** Token ids with begin/end tokens, truncated to `maxLength` (end token kept) and padded with the pad token. */
  encode(text: string): number[];
  /** The text of the tokens `encode` cuts off for being past `maxLength` ("" when it all fits), as the tokenizer decodes them. */
  overflow(text: string): string;
}

interface TokenizerConfig {
  model_max_length?: number;
  bos_token?: string | { content: string };
  eos_token?: string | { content: string };
  pad_token?: string | { content: string };
  unk_token?: string | { content: string };
  [key: string]: unknown;
}

function tokenContent(token: TokenizerConfig['bos_token']): string | undefined {
  return typeof token === 'string' ? token : token?.content;
}

/**
 * SD 1.x/2.x folders ship the slow tokenizer files (vocab.json + merges.txt); transformers.js only
 * reads tokenizer.json, so build the equivalent fast-tokenizer description CLIP's own conversion
 * produces: NFC + whitespace folding + lowercase, CLIP's split regex, byte-level BPE with `</w>`.
 */
export function clipTokenizerJson(vocab: Record<string, number>, merges: string[], config: TokenizerConfig, dir: string): object {
  const roles = { bos: config.bos_token, eos: config.eos_token, unk: config.unk_token, pad: config.pad_token };
  const addedTokens = new Map<string, object>();
  for (const [role, token] of Object.entries(roles)) {
    const content = tokenContent(token);
    if (content === undefined) continue;
    const id = vocab[content];
    if (id === undefined) throw new ModelFileError(join(dir, 'tokenizer_config.json'), `${role} token ${content} is not in the vocabulary`);
    addedTokens.set(content, { id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  }
  const bos = tokenContent(config.bos_token) ?? '<|startoftext|>';
  const eos = tokenContent(config.eos_token) ?? '<|endoftext|>';
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...addedTokens.values()],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [eos, vocab[eos]],
      cls: [bos, vocab[bos]],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: tokenContent(config.unk_token) ?? eos,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

async function readMerges(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw ModelFileError.fromIo(path, error);
  }
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  const merges = lines.filter((line, index) => !(index === 0 && line.startsWith('#version')) && line.trim().length > 0);
  const malformed = merges.findIndex((line) => line.split(' ').length !== 2);
  if (merges.length === 0) throw new ModelFileError(path, 'has no merges (empty or truncated file)');
  if (malformed >= 0) throw new ModelFileError(path, `line ${malformed + 2} is not a "left right" merge pair`);
  return merges;
}

class TransformersClipTokenizer implements PromptTokenizer {
  constructor(
    private readonly tokenizer: CLIPTokenizer,
    readonly maxLength: number,
    private readonly bosId: number,
    private readonly eosId: number,
    private readonly padId: number,
  ) {}

  encode(text: string): number[] {
    // transformers.js truncation cuts the end token off; diffusers (via transformers) keeps it,
    // so truncate the body ourselves and add begin/end tokens around it.
    const body = this.tokenizer.encode(text, { add_special_tokens: false }).slice(0, this.maxLength - 2);
    const ids = [this.bosId, ...body, this.eosId];
    while (ids.length < this.maxLength) ids.push(this.padId);
    return ids;
  }

  overflow(text: string): string {
    const dropped = this.tokenizer.encode(text, { add_special_tokens: false }).slice(this.maxLength - 2);
    return dropped.length === 0 ? '' : this.tokenizer.decode(dropped, { skip_special_tokens: true }).trim();
  }
}

/** Loads `tokenizer/` from a model folder: tokenizer.json if present, else vocab.json + merges.txt. */
export async function loadClipTokenizer(tokenizerDir: string): Promise<PromptTokenizer> {
  const config = await readJsonFile<TokenizerConfig>(join(tokenizerDir, 'tokenizer_config.json'));
  let tokenizerJson: object & { model?: { vocab?: Record<string, number> }; added_tokens?: { id: number; content: string }[] };
  const fastPath = join(tokenizerDir, 'tokenizer.json');
  const hasFast = await readFile(fastPath).then(
    () => true,
    () => false,
  );
  if (hasFast) {
    tokenizerJson = await readJsonFile(fastPath);
  } else {
    const vocab = await readJsonFile<Record<string, number>>(join(tokenizerDir, 'vocab.json'));
    if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab) || Object.keys(vocab).length === 0) {
      throw new ModelFileError(join(tokenizerDir, 'vocab.json'), 'is not a token → id map');
    }
    const merges = await readMerges(join(tokenizerDir, 'merges.txt'));
    tokenizerJson = clipTokenizerJson(vocab, merges, config, tokenizerDir);
  }
  const tokenizer = new CLIPTokenizer(tokenizerJson, config);
  const vocabulary = tokenizer.get_vocab();
  const idOf = (token: string | undefined, role: string): number => {
    const id = token === undefined ? undefined : vocabulary.get(token);
    if (id === undefined) {
      throw new ModelFileError(join(tokenizerDir, 'tokenizer_config.json'), `${role} token ${token ?? '(unset)'} is not in the vocabulary`);
    }
    return id;
  };
  const eosToken = tokenContent(config.eos_token);
  const bosId = idOf(tokenContent(config.bos_token), 'bos');
  const eosId = idOf(eosToken, 'eos');
  // CLIP pads with the end token unless the folder names another (SD 2.x pads with "!").
  const padId = idOf(tokenContent(config.pad_token) ?? eosToken, 'pad');
  const maxLength = config.model_max_length;
  if (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 3 || maxLength > 4096) {
    throw new ModelFileError(join(tokenizerDir, 'tokenizer_config.json'), `model_max_length must be an integer (e.g. 77), got ${JSON.stringify(maxLength)}`);
  }
  return new TransformersClipTokenizer(tokenizer, maxLength, bosId, eosId, padId);
}
