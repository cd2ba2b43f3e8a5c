import type { GraphBuilder } from './graph.ts';

/**
 * Building blocks shared by the three networks, written the way torch.onnx exports them (MatMul +
 * Add for Linear, InstanceNormalization for GroupNorm, explicit Softmax attention) so ONNX Runtime
 * applies the same graph fusions it applies to real exports.
 */

/** Bias and norm-shift spread: small but non-zero so channels are not all centred alike. */
const BIAS_STD = 0.02;
const NORM_GAIN_STD = 0.1;
const NORM_SHIFT_STD = 0.1;

export interface InitGain {
  /** Multiplies the fan-in standard deviation 1/sqrt(fan_in) of the weight. */
  gain?: number;
  /** Standard deviation of the bias (default small); the VAE output uses it for colour casts. */
  biasStd?: number;
}

export function linear(
  g: GraphBuilder,
  name: string,
  x: string,
  inFeatures: number,
  outFeatures: number,
  { bias = true, gain = 1, biasStd = BIAS_STD }: InitGain & { bias?: boolean } = {},
): string {
  // Stored [in, out], the layout torch.onnx folds nn.Linear's transposed weight into.
  const w = g.weight(`${name}.weight`, [inFeatures, outFeatures], { std: gain / Math.sqrt(inFeatures) });
  const y = g.op('MatMul', [x, w], {}, `${name}/MatMul`);
  if (!bias) return y;
  return g.op('Add', [y, g.weight(`${name}.bias`, [outFeatures], { std: biasStd })], {}, `${name}/Add`);
}

export function conv2d(
  g: GraphBuilder,
  name: string,
  x: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  { stride = 1, gain = 1, biasStd = BIAS_STD }: InitGain & { stride?: number } = {},
): string {
  const fanIn = inChannels * kernel * kernel;
  const w = g.weight(`${name}.weight`, [outChannels, inChannels, kernel, kernel], { std: gain / Math.sqrt(fanIn) });
  const b = g.weight(`${name}.bias`, [outChannels], { std: biasStd });
  const pad = (kernel - 1) >> 1;
  return g.op(
    'Conv',
    [x, w, b],
    { kernel_shape: { ints: [kernel, kernel] }, pads: { ints: [pad, pad, pad, pad] }, strides: { ints: [stride, stride] } },
    `${name}/Conv`,
  );
}

/** nn.GroupNorm as exported: reshape to [N, groups, -1], InstanceNormalization, reshape back, affine. */
export function groupNorm(g: GraphBuilder, name: string, x: string, channels: number, groups: number, epsilon: number): string {
  const grouped = g.op('Reshape', [x, g.int64([0, groups, -1])], {}, `${name}/Reshape`);
  const ones = g.float(new Array<number>(groups).fill(1), [groups]);
  const zeros = g.float(new Array<number>(groups).fill(0), [groups]);
  const normed = g.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: { f: epsilon } }, `${name}/InstanceNorm`);
  const shape = g.op('Shape', [x], {}, `${name}/Shape`);
  const back = g.op('Reshape', [normed, shape], {}, `${name}/Reshape`);
  const gamma = g.weight(`${name}.weight`, [channels, 1, 1], { mean: 1, std: NORM_GAIN_STD });
  const beta = g.weight(`${name}.bias`, [channels, 1, 1], { std: NORM_SHIFT_STD });
  return g.op('Add', [g.op('Mul', [back, gamma], {}, `${name}/Mul`), beta], {}, `${name}/Add`);
}

export function layerNorm(g: GraphBuilder, name: string, x: string, channels: number, epsilon = 1e-5): string {
  const gamma = g.weight(`${name}.weight`, [channels], { mean: 1, std: NORM_GAIN_STD });
  const beta = g.weight(`${name}.bias`, [channels], { std: NORM_SHIFT_STD });
  return g.op('LayerNormalization', [x, gamma, beta], { axis: { i: -1 }, epsilon: { f: epsilon } }, `${name}/LayerNorm`);
}

export function silu(g: GraphBuilder, x: string, hint = 'silu'): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x], {}, `${hint}/Sigmoid`)], {}, `${hint}/Mul`);
}

/** Exact (erf) GELU, the pattern ORT's GeluFusion recognises. */
export function gelu(g: GraphBuilder, x: string, hint = 'gelu'): string {
  const erf = g.op('Erf', [g.op('Mul', [x, g.float([Math.SQRT1_2])], {}, `${hint}/Mul`)], {}, `${hint}/Erf`);
  const onePlus = g.op('Add', [erf, g.float([1])], {}, `${hint}/Add`);
  return g.op('Mul', [g.op('Mul', [x, onePlus], {}, `${hint}/Mul`), g.float([0.5])], {}, `${hint}/Mul`);
}

/** CLIP's quick_gelu: x * sigmoid(1.702 x). */
export function quickGelu(g: GraphBuilder, x: string, hint = 'quick_gelu'): string {
  const s = g.op('Sigmoid', [g.op('Mul', [x, g.float([1.702])], {}, `${hint}/Mul`)], {}, `${hint}/Sigmoid`);
  return g.op('Mul', [x, s], {}, `${hint}/Mul`);
}

export interface AttentionNames {
  q: string;
  k: string;
  v: string;
  out: string;
}

export interface AttentionSpec {
  /** Width of the query stream (and of the output). */
  dim: number;
  /** Width of the key/value source: `dim` for self-attention, the text width for cross-attention. */
  contextDim: number;
  heads: number;
  /** CLIP's projections carry biases; diffusers' to_q/to_k/to_v do not. */
  qkvBias: boolean;
  names: AttentionNames;
  /** Additive mask broadcast over [batch, heads, query, key] (CLIP's causal mask). */
  mask?: string;
}

/** Multi-head scaled dot-product attention over [batch, tokens, dim] with dynamic batch and token counts. */
export function attention(g: GraphBuilder, name: string, x: string, context: string, spec: AttentionSpec): string {
  const { dim, contextDim, heads, names } = spec;
  if (dim % heads !== 0) throw new Error(`${name}: width ${dim} is not divisible by ${heads} heads`);
  const headDim = dim / heads;
  const q = linear(g, `${name}.${names.q}`, x, dim, dim, { bias: spec.qkvBias });
  const k = linear(g, `${name}.${names.k}`, context, contextDim, dim, { bias: spec.qkvBias });
  const v = linear(g, `${name}.${names.v}`, context, contextDim, dim, { bias: spec.qkvBias });
  const splitShape = g.int64([0, 0, heads, headDim]);
  const perHead = (t: string, perm: number[], hint: string): string =>
    g.op('Transpose', [g.op('Reshape', [t, splitShape], {}, `${name}/${hint}/Reshape`)], { perm: { ints: perm } }, `${name}/${hint}/Transpose`);
  // Scaling q before the product touches tokens*dim values instead of tokens*tokens scores.
  const qh = perHead(g.op('Mul', [q, g.float([1 / Math.sqrt(headDim)])], {}, `${name}/q/Mul`), [0, 2, 1, 3], 'q');
  const kt = perHead(k, [0, 2, 3, 1], 'k');
  const vh = perHead(v, [0, 2, 1, 3], 'v');
  let scores = g.op('MatMul', [qh, kt], {}, `${name}/scores/MatMul`);
  if (spec.mask !== undefined) scores = g.op('Add', [scores, spec.mask], {}, `${name}/mask/Add`);
  const probs = g.op('Softmax', [scores], { axis: { i: -1 } }, `${name}/Softmax`);
  const mixed = g.op('MatMul', [probs, vh], {}, `${name}/context/MatMul`);
  const merged = g.op(
    'Reshape',
    [g.op('Transpose', [mixed], { perm: { ints: [0, 2, 1, 3] } }, `${name}/context/Transpose`), g.int64([0, 0, dim])],
    {},
    `${name}/context/Reshape`,
  );
  return linear(g, `${name}.${names.out}`, merged, dim, dim);
}

/** [batch, channels, height, width] -> [batch, height*width, channels]. */
export function toTokens(g: GraphBuilder, x: string, hint: string): string {
  const flat = g.op('Reshape', [x, g.int64([0, 0, -1])], {}, `${hint}/Reshape`);
  return g.op('Transpose', [flat], { perm: { ints: [0, 2, 1] } }, `${hint}/Transpose`);
}

/** Inverse of toTokens, taking the spatial shape from `like`. */
export function fromTokens(g: GraphBuilder, tokens: string, like: string, hint: string): string {
  const chw = g.op('Transpose', [tokens], { perm: { ints: [0, 2, 1] } }, `${hint}/Transpose`);
  return g.op('Reshape', [chw, g.op('Shape', [like], {}, `${hint}/Shape`)], {}, `${hint}/Reshape`);
}

/** torch's mode="nearest" (the legacy one, not "nearest-exact"): source index floor(dst * in / out). */
const NEAREST = {
  mode: { s: 'nearest' },
  coordinate_transformation_mode: { s: 'asymmetric' },
  nearest_mode: { s: 'floor' },
} as const;

/** Nearest-neighbour x2, matching torch's F.interpolate(scale_factor=2, mode="nearest"). */
export function upsampleNearest2x(g: GraphBuilder, x: string, hint: string): string {
  return g.op('Resize', [x, '', g.float32([1, 1, 2, 2], [4])], NEAREST, `${hint}/Resize`);
}

/**
 * Nearest-neighbour resize of `x` to the height and width of `like`: F.interpolate(x,
 * size=like.shape[2:], mode="nearest"), which is what diffusers' Upsample2D does when the UNet
 * forwards upsample sizes (latents not divisible by 2^downsamplers). Where `like` is exactly twice
 * the size of `x` this equals upsampleNearest2x value for value.
 */
export function upsampleNearestTo(g: GraphBuilder, x: string, like: string, hint: string): string {
  const batchChannels = g.op('Slice', [g.op('Shape', [x], {}, `${hint}/Shape`), g.int64([0]), g.int64([2])], {}, `${hint}/Slice`);
  const size = g.op('Slice', [g.op('Shape', [like], {}, `${hint}/size/Shape`), g.int64([2]), g.int64([4])], {}, `${hint}/size/Slice`);
  const sizes = g.op('Concat', [batchChannels, size], { axis: { i: 0 } }, `${hint}/sizes`);
  return g.op('Resize', [x, '', '', sizes], NEAREST, `${hint}/Resize`);
}
