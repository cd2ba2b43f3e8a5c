import * as ort from 'onnxruntime-node';
import { ModelFileError } from '../../model/files.ts';
import { fixedDim, requireTensor } from '../../model/onnx-session.ts';
import type { PromptTokenizer } from '../../tokenizer/clip-tokenizer.ts';
import { runSession } from '../run-session.ts';
import { readFloats } from '../tensors.ts';
import { FLOAT_TYPES } from '../unet.ts';

/** Which hidden state a family conditions on: SD the last, SDXL the second-to-last (`hidden_states[-2]`). */
export type HiddenLayer = 'last' | 'penultimate';

/** One CLIP text encoder and the outputs the family reads from it. */
export interface TextEncoderPart {
  path: string;
  /** The folder name, for messages (text_encoder, text_encoder_2). */
  part: string;
  session: ort.InferenceSession;
  tokenizer: PromptTokenizer;
  inputName: string;
  idsType: 'int32' | 'int64';
  hiddenName: string;
  /** Declared width of the hidden state, when fixed. */
  hiddenWidth: number | undefined;
  /** `text_embeds` (CLIPTextModelWithProjection's pooled, projected output), when the family needs it. */
  pooledName: string | undefined;
}

/** `hidden_states.N` outputs are the embeddings and each layer's output; -2 is the one before the largest N. */
function penultimateHiddenState(path: string, outputNames: readonly string[]): string {
  const indices = outputNames.flatMap((name) => {
    const match = /^hidden_states\.(\d+)$/.exec(name);
    return match ? [Number(match[1])] : [];
  });
  if (indices.length < 2) {
    throw new ModelFileError(path, `has no hidden_states.N outputs (it has: ${outputNames.join(', ')}); SDXL needs each text encoder exported with its hidden states`);
  }
  return `hidden_states.${Math.max(...indices) - 1}`;
}

export function describeTextEncoder(
  path: string,
  part: string,
  session: ort.InferenceSession,
  tokenizer: PromptTokenizer,
  wants: { layer: HiddenLayer; pooled: boolean },
): TextEncoderPart {
  const ids = requireTensor(path, session.inputMetadata, 'input', { names: ['input_ids'], types: ['int32', 'int64'], ranks: [2] });
  const batch = fixedDim(ids, 0);
  if (batch !== undefined && batch !== 1) {
    throw new ModelFileError(path, `input input_ids has a fixed batch of ${batch}; the engine encodes one prompt at a time, so it needs batch 1 or a free batch dimension`);
  }
  const length = fixedDim(ids, 1);
  if (length !== undefined && length !== tokenizer.maxLength) {
    throw new ModelFileError(path, `input input_ids takes ${length} tokens but the tokenizer pads to ${tokenizer.maxLength} (model_max_length)`);
  }
  const hiddenName = wants.layer === 'last' ? 'last_hidden_state' : penultimateHiddenState(path, session.outputNames);
  const hidden = requireTensor(path, session.outputMetadata, 'output', { names: [hiddenName], types: [...FLOAT_TYPES], ranks: [3] });
  const pooled = wants.pooled ? requireTensor(path, session.outputMetadata, 'output', { names: ['text_embeds'], types: [...FLOAT_TYPES], ranks: [2] }) : undefined;
  return {
    path,
    part,
    session,
    tokenizer,
    inputName: ids.name,
    idsType: ids.type as 'int32' | 'int64',
    hiddenName: hidden.name,
    hiddenWidth: fixedDim(hidden, 2),
    pooledName: pooled?.name,
  };
}

/** One prompt's embeddings from one encoder: [tokens, width] hidden states and the pooled vector if asked. */
export interface PromptEmbedding {
  hidden: Float32Array;
  tokens: number;
  width: number;
  pooled: Float32Array | undefined;
}

/** Tokenizes as diffusers does (padding to max_length, truncation) and runs the encoder on one prompt. */
export async function encodePrompt(encoder: TextEncoderPart, text: string): Promise<PromptEmbedding> {
  const ids = encoder.tokenizer.encode(text);
  const input =
    encoder.idsType === 'int64'
      ? new ort.Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), [1, ids.length])
      : new ort.Tensor('int32', Int32Array.from(ids), [1, ids.length]);
  const fetches = encoder.pooledName ? [encoder.hiddenName, encoder.pooledName] : [encoder.hiddenName];
  const output = await runSession(encoder.session, { [encoder.inputName]: input }, encoder.part, fetches);
  // Copies: the output buffers belong to this run's tensors.
  const hidden = Float32Array.from(readFloats(output[encoder.hiddenName], encoder.part));
  const pooled = encoder.pooledName ? Float32Array.from(readFloats(output[encoder.pooledName], encoder.part)) : undefined;
  return { hidden, tokens: ids.length, width: hidden.length / ids.length, pooled };
}
