import * as ort from 'onnxruntime-node';
import { float32ToHalf, halfToFloat32, toHalfBits } from '../model/float16.ts';
import type { FloatType } from './unet.ts';

export function floatTensor(type: FloatType, data: Float32Array, dims: readonly number[]): ort.Tensor {
  return type === 'float16' ? new ort.Tensor('float16', float32ToHalf(data), dims) : new ort.Tensor('float32', data, dims);
}

export function readFloats(tensor: ort.Tensor | undefined, what: string): Float32Array {
  if (!tensor) throw new Error(`${what}: the model returned no such output`);
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') {
    const data = tensor.data;
    // onnxruntime-node hands float16 back as raw bits (Uint16Array) unless Float16Array exists.
    return data instanceof Uint16Array ? halfToFloat32(data) : Float32Array.from(data as ArrayLike<number>);
  }
  throw new Error(`${what}: expected a float tensor, got ${tensor.type}`);
}

/**
 * The UNet timestep as diffusers' ONNX pipeline makes it: `np.array([t], dtype=timestep_dtype)`,
 * so float timesteps truncate toward zero for integer inputs and round to nearest for float16.
 */
export function timestepTensor(
  type: 'float32' | 'float16' | 'int64' | 'int32',
  layout: 'scalar' | 'single' | 'batch',
  timestep: number,
  batch: number,
): ort.Tensor {
  const length = layout === 'batch' ? batch : 1;
  const dims = layout === 'scalar' ? [] : [length];
  switch (type) {
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(length).fill(BigInt(Math.trunc(timestep))), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(length).fill(Math.trunc(timestep)), dims);
    case 'float16':
      return new ort.Tensor('float16', new Uint16Array(length).fill(toHalfBits(timestep)), dims);
    case 'float32':
      return new ort.Tensor('float32', new Float32Array(length).fill(timestep), dims);
  }
}
