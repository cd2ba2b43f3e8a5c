import { GraphBuilder, type BuiltGraph, type Dim } from './graph.ts';
import { attention, conv2d, fromTokens, gelu, groupNorm, layerNorm, linear, silu, toTokens, upsampleNearestTo } from './layers.ts';
import { DataType, type FloatType } from './proto.ts';
import { crossAttentionDim, type TimestepShape, type TinySdOptions } from './options.ts';

/**
 * A miniature of diffusers' UNet2DConditionModel (SD 1.5 layout, or SDXL's with the text_time
 * added conditions and deeper transformers), parameter names included. With SD 1.5's sizes it has
 * exactly SD 1.5's 859,520,964 parameters, with SDXL's SDXL's 2,567,463,684. Like diffusers with
 * forward_upsample_size, it takes latents of any height and width >= 1, not only multiples of
 * 2^(levels - 1).
 */

const RESNET_EPS = 1e-5;
const TRANSFORMER_NORM_EPS = 1e-6;
/**
 * conv_out sits after GroupNorm + SiLU, whose outputs have an RMS of about 0.6; this gain brings the
 * prediction to roughly unit variance, the scale a real epsilon/v prediction has, so schedulers see
 * familiar magnitudes.
 */
const OUTPUT_GAIN = 1.6;

interface Ctx {
  g: GraphBuilder;
  groups: number;
  /** Attention heads for a block of this many channels. */
  heads(channels: number): number;
  context: string;
  contextDim: number;
  tembAct: string;
  tembDim: number;
}

function resnet(c: Ctx, name: string, x: string, inC: number, outC: number): string {
  const { g } = c;
  let h = silu(g, groupNorm(g, `${name}.norm1`, x, inC, c.groups, RESNET_EPS), `${name}/act1`);
  h = conv2d(g, `${name}.conv1`, h, inC, outC, 3);
  const t = linear(g, `${name}.time_emb_proj`, c.tembAct, c.tembDim, outC);
  // [n, C] -> [n, C, 1, 1]; n is 1 or batch, and Add broadcasts either way.
  h = g.op('Add', [h, g.op('Unsqueeze', [t, g.int64([2, 3])], {}, `${name}/temb/Unsqueeze`)], {}, `${name}/temb/Add`);
  h = silu(g, groupNorm(g, `${name}.norm2`, h, outC, c.groups, RESNET_EPS), `${name}/act2`);
  h = conv2d(g, `${name}.conv2`, h, outC, outC, 3);
  const shortcut = inC === outC ? x : conv2d(g, `${name}.conv_shortcut`, x, inC, outC, 1);
  return g.op('Add', [shortcut, h], {}, `${name}/residual`);
}

/** BasicTransformerBlock: self-attn, cross-attn on the text, GEGLU feed-forward, each pre-LN with a residual. */
function transformerBlock(c: Ctx, block: string, tokens: string, channels: number): string {
  const { g } = c;
  const attnNames = { q: 'to_q', k: 'to_k', v: 'to_v', out: 'to_out.0' };
  const heads = c.heads(channels);
  let t = tokens;
  const n1 = layerNorm(g, `${block}.norm1`, t, channels);
  const self = attention(g, `${block}.attn1`, n1, n1, { dim: channels, contextDim: channels, heads, qkvBias: false, names: attnNames });
  t = g.op('Add', [self, t], {}, `${block}/attn1/residual`);

  const n2 = layerNorm(g, `${block}.norm2`, t, channels);
  const cross = attention(g, `${block}.attn2`, n2, c.context, { dim: channels, contextDim: c.contextDim, heads, qkvBias: false, names: attnNames });
  t = g.op('Add', [cross, t], {}, `${block}/attn2/residual`);

  const n3 = layerNorm(g, `${block}.norm3`, t, channels);
  const inner = channels * 4;
  const proj = linear(g, `${block}.ff.net.0.proj`, n3, channels, inner * 2);
  const [value, gate] = g.opN('Split', [proj, g.int64([inner, inner])], 2, { axis: { i: -1 } }, `${block}/ff/Split`);
  const geglu = g.op('Mul', [value!, gelu(g, gate!, `${block}/ff/gelu`)], {}, `${block}/ff/geglu`);
  const ff = linear(g, `${block}.ff.net.2`, geglu, inner, channels);
  return g.op('Add', [ff, t], {}, `${block}/ff/residual`);
}

/** Transformer2DModel with `depth` BasicTransformerBlocks between proj_in and proj_out. */
function transformer(c: Ctx, name: string, x: string, channels: number, depth: number): string {
  const { g } = c;
  let h = groupNorm(g, `${name}.norm`, x, channels, c.groups, TRANSFORMER_NORM_EPS);
  h = conv2d(g, `${name}.proj_in`, h, channels, channels, 1);
  let t = toTokens(g, h, `${name}/tokens`);
  for (let k = 0; k < depth; k++) t = transformerBlock(c, `${name}.transformer_blocks.${k}`, t, channels);

  h = fromTokens(g, t, x, `${name}/spatial`);
  h = conv2d(g, `${name}.proj_out`, h, channels, channels, 1);
  return g.op('Add', [h, x], {}, `${name}/residual`);
}

/**
 * diffusers' Timesteps(flip_sin_to_cos=True, downscale_freq_shift=0): [cos(t f), sin(t f)] with
 * f_i = 10000^(-i/half). Computed in float32 whatever the model's type: at t near 1000 the
 * arguments need more precision than float16 has.
 */
export function timestepEmbedding(g: GraphBuilder, timestep: string, channels: number, floatType: FloatType, hint = 'time_proj'): string {
  const half = channels / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const t = g.op('Cast', [timestep], { to: { i: DataType.float32 } }, `${hint}/Cast`);
  // [], [1] and [batch] all become [n, 1]; n = 1 broadcasts against the batch later on.
  const column = g.op('Reshape', [t, g.int64([-1, 1])], {}, `${hint}/Reshape`);
  const args = g.op('Mul', [column, g.float32(freqs, [1, half])], {}, `${hint}/Mul`);
  const emb = g.op('Concat', [g.op('Cos', [args], {}, `${hint}/Cos`), g.op('Sin', [args], {}, `${hint}/Sin`)], { axis: { i: 1 } }, `${hint}/Concat`);
  if (floatType === 'float32') return emb;
  return g.op('Cast', [emb], { to: { i: DataType.float16 } }, `${hint}/CastHalf`);
}

/**
 * SDXL's "text_time" added embedding: add_time_proj of each of the six time_ids (flattened, then
 * [batch, 6·D]), concatenated after text_embeds, through add_embedding's two linears.
 */
function addedEmbedding(g: GraphBuilder, o: TinySdOptions, tembDim: number, floatType: FloatType): string {
  const dim = o.unet.addedTimeEmbedDim!;
  const textDim = o.textEncoder2.projectionDim!;
  const textEmbeds = g.input('text_embeds', floatType, ['batch', textDim]);
  const timeIds = g.input('time_ids', floatType, ['batch', 6]);
  const perId = timestepEmbedding(g, timeIds, dim, floatType, 'add_time_proj');
  const timeEmbeds = g.op('Reshape', [perId, g.int64([-1, 6 * dim])], {}, 'add_time_proj/Reshape');
  const joined = g.op('Concat', [textEmbeds, timeEmbeds], { axis: { i: 1 } }, 'add_embedding/Concat');
  const hidden = silu(g, linear(g, 'add_embedding.linear_1', joined, textDim + 6 * dim, tembDim), 'add_embedding/act');
  return linear(g, 'add_embedding.linear_2', hidden, tembDim, tembDim);
}

function timestepShape(shape: TimestepShape): Dim[] {
  if (shape === 'scalar') return [];
  return shape === '1' ? [1] : ['batch'];
}

export function buildUnet(o: TinySdOptions): BuiltGraph {
  const floatType: FloatType = o.float16 ? 'float16' : 'float32';
  const u = o.unet;
  const g = new GraphBuilder('unet', floatType);
  const contextDim = crossAttentionDim(o);
  const sample = g.input('sample', floatType, ['batch', 4, 'height', 'width']);
  const timestep = g.input('timestep', o.timestepDtype, timestepShape(o.timestepShape));
  const context = g.input('encoder_hidden_states', floatType, ['batch', 'sequence', contextDim]);

  const boc = u.blockOutChannels;
  const levels = boc.length;
  const c0 = boc[0]!;
  const tembDim = c0 * 4;
  let temb = timestepEmbedding(g, timestep, c0, floatType);
  if (u.timeCondProjDim !== null) {
    // LCM: TimestepEmbedding adds cond_proj(timestep_cond) (no bias) before linear_1.
    const cond = g.input('timestep_cond', floatType, ['batch', u.timeCondProjDim]);
    temb = g.op('Add', [temb, linear(g, 'time_embedding.cond_proj', cond, u.timeCondProjDim, c0, { bias: false })], {}, 'time_embedding/cond/Add');
  }
  temb = linear(g, 'time_embedding.linear_1', temb, c0, tembDim);
  temb = silu(g, temb, 'time_embedding/act');
  temb = linear(g, 'time_embedding.linear_2', temb, tembDim, tembDim);
  if (u.addedTimeEmbedDim !== null) temb = g.op('Add', [temb, addedEmbedding(g, o, tembDim, floatType)], {}, 'add_embedding/Add');
  // Every ResNet applies SiLU to the embedding before its projection; computing it once is the same math.
  const tembAct = silu(g, temb, 'time_embedding/resnet_act');
  const heads = (channels: number): number => (u.attentionHeadDim === null ? u.attentionHeads : channels / u.attentionHeadDim);
  const c: Ctx = { g, groups: u.normGroups, heads, context, contextDim, tembAct, tembDim };

  let h = conv2d(g, 'conv_in', sample, 4, c0, 3);
  let channels = c0;
  const skips: { value: string; channels: number }[] = [{ value: h, channels }];

  for (let i = 0; i < levels; i++) {
    const out = boc[i]!;
    for (let j = 0; j < u.layersPerBlock; j++) {
      h = resnet(c, `down_blocks.${i}.resnets.${j}`, h, channels, out);
      channels = out;
      if (u.attentionLevels[i]) h = transformer(c, `down_blocks.${i}.attentions.${j}`, h, channels, u.transformerLayers[i]!);
      skips.push({ value: h, channels });
    }
    if (i < levels - 1) {
      // 3x3, stride 2, padding 1: n -> ceil(n / 2) for any n >= 1, as in PyTorch.
      h = conv2d(g, `down_blocks.${i}.downsamplers.0.conv`, h, channels, channels, 3, { stride: 2 });
      skips.push({ value: h, channels });
    }
  }

  h = resnet(c, 'mid_block.resnets.0', h, channels, channels);
  h = transformer(c, 'mid_block.attentions.0', h, channels, u.transformerLayers.at(-1)!);
  h = resnet(c, 'mid_block.resnets.1', h, channels, channels);

  for (let i = 0; i < levels; i++) {
    const level = levels - 1 - i;
    const out = boc[level]!;
    for (let j = 0; j <= u.layersPerBlock; j++) {
      const skip = skips.pop()!;
      h = g.op('Concat', [h, skip.value], { axis: { i: 1 } }, `up_blocks.${i}.resnets.${j}/skip`);
      h = resnet(c, `up_blocks.${i}.resnets.${j}`, h, channels + skip.channels, out);
      channels = out;
      if (u.attentionLevels[level]) h = transformer(c, `up_blocks.${i}.attentions.${j}`, h, channels, u.transformerLayers[level]!);
    }
    if (level > 0) {
      // To the size of the skip it meets next, not a blind x2: a stride-2 conv took n to ceil(n / 2).
      h = upsampleNearestTo(g, h, skips[skips.length - 1]!.value, `up_blocks.${i}.upsamplers.0`);
      h = conv2d(g, `up_blocks.${i}.upsamplers.0.conv`, h, channels, channels, 3);
    }
  }

  h = silu(g, groupNorm(g, 'conv_norm_out', h, channels, u.normGroups, RESNET_EPS), 'conv_act');
  h = conv2d(g, 'conv_out', h, channels, 4, 3, { gain: OUTPUT_GAIN });
  g.output(h, 'out_sample', floatType, ['batch', 4, 'height', 'width']);
  return g.finish();
}

/** unet/config.json: the UNet2DConditionModel keys a pipeline reads (sample_size decides the default image size). */
export function unetConfig(o: TinySdOptions): Record<string, unknown> {
  const u = o.unet;
  const down = u.attentionLevels.map((a) => (a ? 'CrossAttnDownBlock2D' : 'DownBlock2D'));
  const up = [...u.attentionLevels].reverse().map((a) => (a ? 'CrossAttnUpBlock2D' : 'UpBlock2D'));
  return {
    _class_name: 'UNet2DConditionModel',
    act_fn: 'silu',
    attention_head_dim: u.attentionHeads,
    block_out_channels: u.blockOutChannels,
    center_input_sample: false,
    cross_attention_dim: crossAttentionDim(o),
    down_block_types: down,
    downsample_padding: 1,
    flip_sin_to_cos: true,
    freq_shift: 0,
    in_channels: 4,
    layers_per_block: u.layersPerBlock,
    mid_block_scale_factor: 1,
    norm_eps: RESNET_EPS,
    norm_num_groups: u.normGroups,
    out_channels: 4,
    sample_size: u.sampleSize,
    up_block_types: up,
    ...(u.timeCondProjDim !== null && { time_cond_proj_dim: u.timeCondProjDim }),
    ...(o.family === 'sdxl' && {
      addition_embed_type: 'text_time',
      addition_time_embed_dim: u.addedTimeEmbedDim,
      projection_class_embeddings_input_dim: o.textEncoder2.projectionDim! + 6 * u.addedTimeEmbedDim!,
      transformer_layers_per_block: u.transformerLayers,
    }),
    ...(u.attentionHeadDim !== null && { attention_head_dim: u.blockOutChannels.map((ch) => ch / u.attentionHeadDim!) }),
  };
}
