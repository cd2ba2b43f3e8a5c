import * as ort from 'onnxruntime-node';
import { ModelFileError } from '../model/files.ts';
import { fixedDim, requireTensor, type TensorMetadata } from '../model/onnx-session.ts';
import { runSession } from './run-session.ts';
import { readFloats } from './tensors.ts';

export type FloatType = 'float32' | 'float16';
export type TimestepType = 'float32' | 'float16' | 'int64' | 'int32';
/** How the UNet wants its timestep: diffusers exports `[1]`; others use a scalar or one per batch row. */
export type TimestepLayout = 'scalar' | 'single' | 'batch';

export const FLOAT_TYPES = ['float32', 'float16'] as const;

/** The denoiser as its graph declares it: what every family's loop feeds and reads. */
export interface UnetPart {
  path: string;
  session: ort.InferenceSession;
  sample: { name: string; type: FloatType };
  timestep: { name: string; type: TimestepType; layout: TimestepLayout };
  output: { name: string; type: FloatType };
  /** Inputs besides sample and timestep (the conditioning), as declared. */
  conditioningInputs: ReadonlyMap<string, TensorMetadata>;
  /** The batch size the graph was exported for, when it is fixed rather than symbolic. */
  fixedBatch: number | undefined;
}

function timestepLayout(meta: TensorMetadata): TimestepLayout {
  if (meta.shape.length === 0) return 'scalar';
  return meta.shape[0] === 1 ? 'single' : 'batch';
}

export interface UnetExpectations {
  /** Latent channels the family's loop produces (4 for SD/SDXL latents, 3 for pixel-space models). */
  channels: number;
  /** Conditioning inputs the family knows how to fill; any other input is refused at load. */
  fillable: readonly string[];
  /** Conditioning inputs the family cannot run without. */
  required: readonly string[];
  family: string;
}

/** Reads the UNet's inputs from the session and refuses, naming the file, any the family cannot fill. */
export function describeUnet(path: string, session: ort.InferenceSession, expect: UnetExpectations): UnetPart {
  const sample = requireTensor(path, session.inputMetadata, 'input', { names: ['sample'], types: [...FLOAT_TYPES], ranks: [4] });
  const timestep = requireTensor(path, session.inputMetadata, 'input', {
    names: ['timestep'],
    types: ['float32', 'float16', 'int64', 'int32'],
    ranks: [0, 1],
  });
  const output = requireTensor(path, session.outputMetadata, 'output', { names: ['out_sample', 'sample', 'noise_pred'], types: [...FLOAT_TYPES], ranks: [4] });
  const channels = fixedDim(sample, 1);
  if (channels !== undefined && channels !== expect.channels) {
    throw new ModelFileError(
      path,
      `input sample has ${channels} channels; ${expect.family} UNets for text-to-image take ${expect.channels} (inpainting and other variants are not supported)`,
    );
  }
  const conditioningInputs = new Map<string, TensorMetadata>();
  for (const meta of session.inputMetadata) {
    if (meta.name === sample.name || meta.name === timestep.name) continue;
    if (!expect.fillable.includes(meta.name)) {
      const fills = ['sample', 'timestep', ...expect.fillable].join(', ');
      throw new ModelFileError(path, `input "${meta.name}" is not one the engine knows how to fill for ${expect.family} models (it fills ${fills})`);
    }
    if (!meta.isTensor) throw new ModelFileError(path, `input ${meta.name} is not a tensor`);
    conditioningInputs.set(meta.name, meta);
  }
  for (const name of expect.required) {
    if (!conditioningInputs.has(name)) {
      const have = session.inputMetadata.map((m) => m.name).join(', ');
      throw new ModelFileError(path, `has no input named ${name} (it has: ${have}); ${expect.family} UNets need it`);
    }
  }
  return {
    path,
    session,
    sample: { name: sample.name, type: sample.type as FloatType },
    timestep: { name: timestep.name, type: timestep.type as TimestepType, layout: timestepLayout(timestep) },
    output: { name: output.name, type: output.type as FloatType },
    conditioningInputs,
    fixedBatch: fixedDim(sample, 0),
  };
}

/** A conditioning input the family fills, known to be declared (or undefined when the UNet lacks it). */
export function conditioningInput(unet: UnetPart, name: string): TensorMetadata | undefined {
  return unet.conditioningInputs.get(name);
}

/** The dtype to feed a float conditioning input in (the UNet's own, float16 or float32). */
export function floatInputType(path: string, meta: TensorMetadata): FloatType {
  if (meta.type === 'float32' || meta.type === 'float16') return meta.type;
  throw new ModelFileError(path, `input ${meta.name} has dtype ${meta.type}, expected float32 or float16`);
}

type TypedArray = Exclude<ort.Tensor['data'], string[]>;

/** Rows [start, start + size) of a batched tensor, the last row repeated where the batch runs out. */
function sliceRows(tensor: ort.Tensor, batch: number, start: number, size: number): ort.Tensor {
  if (tensor.dims.length === 0 || tensor.dims[0] !== batch) return tensor;
  const data = tensor.data as TypedArray;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const rowBytes = bytes.length / batch;
  const out = new Uint8Array(rowBytes * size);
  for (let r = 0; r < size; r++) {
    const row = Math.min(start + r, batch - 1);
    out.set(bytes.subarray(row * rowBytes, (row + 1) * rowBytes), r * rowBytes);
  }
  const SameType = data.constructor as new (buffer: ArrayBuffer) => TypedArray;
  return new ort.Tensor(tensor.type as 'float32', new SameType(out.buffer) as Float32Array, [size, ...tensor.dims.slice(1)]);
}

/**
 * One UNet evaluation over `batch` rows. A graph exported for a fixed batch (some exports fix 2,
 * for guidance) runs in chunks of that size, the last one padded with copies of its final row;
 * rows are independent, so the result is what a free batch gives.
 */
export async function runUnet(unet: UnetPart, feeds: Record<string, ort.Tensor>, batch: number): Promise<Float32Array> {
  const fixed = unet.fixedBatch;
  if (fixed === undefined || fixed === batch) {
    const output = await runSession(unet.session, feeds, 'unet', [unet.output.name]);
    return readFloats(output[unet.output.name], 'unet');
  }
  // A [1] or scalar timestep is shared by every row, whatever the batch.
  const shared = unet.timestep.layout === 'batch' ? undefined : unet.timestep.name;
  let result: Float32Array | undefined;
  for (let start = 0; start < batch; start += fixed) {
    const chunk = Object.fromEntries(Object.entries(feeds).map(([name, tensor]) => [name, name === shared ? tensor : sliceRows(tensor, batch, start, fixed)]));
    const output = await runSession(unet.session, chunk, 'unet', [unet.output.name]);
    const rows = readFloats(output[unet.output.name], 'unet');
    const rowLength = rows.length / fixed;
    result ??= new Float32Array(rowLength * batch);
    const keep = Math.min(fixed, batch - start);
    result.set(rows.subarray(0, keep * rowLength), start * rowLength);
  }
  return result!;
}
