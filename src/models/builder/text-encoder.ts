import { GraphBuilder, type BuiltGraph } from './graph.ts';
import { attention, gelu, layerNorm, linear, quickGelu } from './layers.ts';
import type { FloatType } from './proto.ts';
import type { TextEncoderOptions, TinySdOptions } from './options.ts';

/**
 * A CLIPTextModel (transformers' layout and parameter names): token + position embeddings, pre-LN
 * transformer layers with causal self-attention and quick_gelu MLPs, final LayerNorm, and the
 * pooled output taken at each row's highest token id, which is where CLIP's EOS sits.
 */

/** Large but finite: -inf would turn a fully masked row into NaN, and float16 tops out at 65504. */
const MASKED = -1e4;
/** Token identity should dominate the position signal so different prompts give different states. */
const TOKEN_EMBEDDING_STD = 0.5;
const POSITION_EMBEDDING_STD = 0.1;

export type TextEncoderPart = 'text_encoder' | 'text_encoder_2';

function encoderOptions(o: TinySdOptions, part: TextEncoderPart): TextEncoderOptions {
  return part === 'text_encoder' ? o.textEncoder : o.textEncoder2;
}

export function textEncoderVocabSize(o: TinySdOptions, tokenizerVocabSize: number, part: TextEncoderPart = 'text_encoder'): number {
  return encoderOptions(o, part).vocabSize ?? tokenizerVocabSize;
}

/**
 * SD folders get CLIPTextModel's two outputs. SDXL folders get what optimum exports with
 * output_hidden_states: every layer's input and output as `hidden_states.0 … hidden_states.N`
 * (before the final LayerNorm), and for text_encoder_2 (CLIPTextModelWithProjection) the
 * projected pooled `text_embeds` first.
 */
export function buildTextEncoder(o: TinySdOptions, vocabSize: number, part: TextEncoderPart = 'text_encoder'): BuiltGraph {
  const floatType: FloatType = o.float16 ? 'float16' : 'float32';
  const te = encoderOptions(o, part);
  const hidden = te.hiddenSize;
  const maxLen = te.maxPositionEmbeddings;
  const g = new GraphBuilder(part, floatType);
  const ids = g.input('input_ids', o.inputIdsDtype, ['batch', 'sequence']);

  const tokenTable = g.weight('text_model.embeddings.token_embedding.weight', [vocabSize, hidden], { std: TOKEN_EMBEDDING_STD });
  const positionTable = g.weight('text_model.embeddings.position_embedding.weight', [maxLen, hidden], {
    std: POSITION_EMBEDDING_STD,
  });
  const tokens = g.op('Gather', [tokenTable, ids], { axis: { i: 0 } }, 'embeddings/token/Gather');
  const length = g.op('Shape', [ids], { start: { i: 1 }, end: { i: 2 } }, 'embeddings/length');
  const positions = g.op('Slice', [positionTable, g.int64([0]), length, g.int64([0])], {}, 'embeddings/position/Slice');
  let h = g.op('Add', [tokens, positions], {}, 'embeddings/Add');
  const hiddenStates = [h];

  // Upper triangle above the diagonal masked; sliced to the actual [sequence, sequence].
  const maskTable = new Float32Array(maxLen * maxLen);
  for (let r = 0; r < maxLen; r++) for (let col = r + 1; col < maxLen; col++) maskTable[r * maxLen + col] = MASKED;
  const ends = g.op('Concat', [length, length], { axis: { i: 0 } }, 'causal_mask/ends');
  const mask = g.op('Slice', [g.float(maskTable, [maxLen, maxLen]), g.int64([0, 0]), ends, g.int64([0, 1])], {}, 'causal_mask/Slice');

  for (let i = 0; i < te.layers; i++) {
    const name = `text_model.encoder.layers.${i}`;
    const a = layerNorm(g, `${name}.layer_norm1`, h, hidden);
    const attn = attention(g, `${name}.self_attn`, a, a, {
      dim: hidden,
      contextDim: hidden,
      heads: te.heads,
      qkvBias: true,
      names: { q: 'q_proj', k: 'k_proj', v: 'v_proj', out: 'out_proj' },
      mask,
    });
    h = g.op('Add', [h, attn], {}, `${name}/attn/residual`);
    const m = layerNorm(g, `${name}.layer_norm2`, h, hidden);
    const fc1 = linear(g, `${name}.mlp.fc1`, m, hidden, te.intermediateSize);
    const act = te.hiddenAct === 'gelu' ? gelu(g, fc1, `${name}/mlp/act`) : quickGelu(g, fc1, `${name}/mlp/act`);
    const fc2 = linear(g, `${name}.mlp.fc2`, act, te.intermediateSize, hidden);
    h = g.op('Add', [h, fc2], {}, `${name}/mlp/residual`);
    hiddenStates.push(h);
  }
  const last = layerNorm(g, 'text_model.final_layer_norm', h, hidden);

  const eos = g.op('ArgMax', [ids], { axis: { i: -1 }, keepdims: { i: 1 } }, 'pooler/ArgMax');
  const pooled = g.op('GatherND', [last, eos], { batch_dims: { i: 1 } }, 'pooler/GatherND');
  if (te.projectionDim !== null) {
    const projected = linear(g, 'text_projection', pooled, hidden, te.projectionDim, { bias: false });
    g.output(projected, 'text_embeds', floatType, ['batch', te.projectionDim]);
    g.output(last, 'last_hidden_state', floatType, ['batch', 'sequence', hidden]);
  } else {
    g.output(last, 'last_hidden_state', floatType, ['batch', 'sequence', hidden]);
    g.output(pooled, 'pooler_output', floatType, ['batch', hidden]);
  }
  if (o.family === 'sdxl') {
    hiddenStates.forEach((state, i) => g.output(state, `hidden_states.${i}`, floatType, ['batch', 'sequence', hidden]));
  }
  return g.finish();
}

/** text_encoder/config.json in CLIPTextConfig's keys, as optimum writes next to the ONNX file. */
export function textEncoderConfig(o: TinySdOptions, vocabSize: number, bosId: number, eosId: number, part: TextEncoderPart = 'text_encoder'): Record<string, unknown> {
  const te = encoderOptions(o, part);
  return {
    architectures: [te.projectionDim === null ? 'CLIPTextModel' : 'CLIPTextModelWithProjection'],
    model_type: 'clip_text_model',
    hidden_act: te.hiddenAct,
    hidden_size: te.hiddenSize,
    intermediate_size: te.intermediateSize,
    layer_norm_eps: 1e-5,
    max_position_embeddings: te.maxPositionEmbeddings,
    num_attention_heads: te.heads,
    num_hidden_layers: te.layers,
    projection_dim: te.projectionDim ?? te.hiddenSize,
    vocab_size: vocabSize,
    bos_token_id: bosId,
    eos_token_id: eosId,
    pad_token_id: eosId,
    torch_dtype: o.float16 ? 'float16' : 'float32',
  };
}
