import * as ort from 'onnxruntime-node';
import { float16BitsToFloat32 } from '../../src/models/builder/index.ts';

export interface Meta {
  name: string;
  type: string;
  shape: readonly (number | string)[];
}

export function metadata(list: readonly ort.InferenceSession.ValueMetadata[]): Meta[] {
  return list.map((m) => {
    if (!m.isTensor) throw new Error(`${m.name} is not a tensor`);
    return { name: m.name, type: m.type, shape: [...m.shape] };
  });
}

export async function session(path: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, { graphOptimizationLevel: 'all' });
}

/** Deterministic standard-normal-ish values (Irwin–Hall of 4 LCG uniforms): test inputs, not weights. */
export function noise(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    let u = 0;
    for (let k = 0; k < 4; k++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      u += s / 2 ** 32;
    }
    out[i] = (u - 2) * Math.sqrt(3);
  }
  return out;
}

export function floats(tensor: ort.Tensor): Float32Array {
  if (tensor.type === 'float16') return float16BitsToFloat32(tensor.data as Uint16Array);
  if (tensor.type !== 'float32') throw new Error(`expected a float tensor, got ${tensor.type}`);
  return tensor.data as Float32Array;
}

export interface Stats {
  mean: number;
  std: number;
  finite: boolean;
  insideUnit: number;
}

export function stats(values: Float32Array): Stats {
  let sum = 0;
  let sq = 0;
  let inside = 0;
  let finite = true;
  for (const v of values) {
    if (!Number.isFinite(v)) finite = false;
    sum += v;
    sq += v * v;
    if (Math.abs(v) <= 1) inside++;
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(Math.max(0, sq / values.length - mean * mean)), finite, insideUnit: inside / values.length };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Root-mean-square of a - b over root-mean-square of b. */
export function relativeRms(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}
