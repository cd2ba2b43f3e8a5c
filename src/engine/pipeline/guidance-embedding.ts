import type * as ort from 'onnxruntime-node';
import { ModelFileError } from '../model/files.ts';
import type { ModelFolder } from '../model/model-folder.ts';
import { floatTensor } from './tensors.ts';
import { floatInputType, type FloatType, type UnetPart } from './unet.ts';

const f = Math.fround;

/**
 * diffusers' `get_guidance_scale_embedding(w, embedding_dim)` (LatentConsistencyModelPipeline,
 * also StableDiffusion(XL)Pipeline when the UNet has `time_cond_proj_dim`) for w = guidance − 1,
 * in float32 step by step: w·1000, then [sin(w·e_k), cos(w·e_k)] with e_k = exp(−k·ln(10⁴)/(half−1)),
 * zero-padded to an odd width. One row per image.
 */
export function guidanceScaleEmbedding(guidance: number, embeddingDim: number): Float32Array {
  const w = f(f(guidance - 1) * 1000);
  const half = Math.floor(embeddingDim / 2);
  const base = f(f(Math.log(10000)) / (half - 1));
  const row = new Float32Array(embeddingDim);
  for (let k = 0; k < half; k++) {
    const angle = f(w * f(Math.exp(f(k * -base))));
    row[k] = Math.sin(angle);
    row[half + k] = Math.cos(angle);
  }
  return row;
}

/** An LCM-distilled UNet's `timestep_cond` input: filled with the guidance embedding, and no CFG batch. */
export interface TimestepCondInput {
  name: string;
  type: FloatType;
  embeddingDim: number;
}

/** The UNet's `timestep_cond`, if it has one; its width from the graph, else unet/config.json's time_cond_proj_dim. */
export function describeTimestepCond(unet: UnetPart, folder: ModelFolder): TimestepCondInput | undefined {
  const meta = unet.conditioningInputs.get('timestep_cond');
  if (!meta) return undefined;
  const declared = meta.isTensor ? meta.shape.at(1) : undefined;
  const configured = folder.unetConfig?.time_cond_proj_dim;
  const embeddingDim = typeof declared === 'number' && declared > 0 ? declared : typeof configured === 'number' ? configured : undefined;
  if (embeddingDim === undefined || !Number.isInteger(embeddingDim) || embeddingDim < 4) {
    throw new ModelFileError(unet.path, 'input timestep_cond has no fixed width and unet/config.json gives no time_cond_proj_dim: cannot build the guidance embedding');
  }
  return { name: meta.name, type: floatInputType(unet.path, meta), embeddingDim };
}

/** `timestep_cond` for `count` images: the same embedding on every row. */
export function timestepCondFeed(input: TimestepCondInput, guidance: number, count: number): Record<string, ort.Tensor> {
  const row = guidanceScaleEmbedding(guidance, input.embeddingDim);
  const rows = new Float32Array(row.length * count);
  for (let i = 0; i < count; i++) rows.set(row, i * row.length);
  return { [input.name]: floatTensor(input.type, rows, [count, input.embeddingDim]) };
}
