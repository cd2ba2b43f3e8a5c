import { open, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { toHalfBits } from '../../engine/model/float16.ts';
import { bytesOf, numel, type BuiltGraph, type ConstSpec, type WeightSpec } from './graph.ts';
import { fillUniform, tensorSeed } from './prng.ts';
import { BYTES_PER_ELEMENT, DataType, onnx, type IModelProto, type ITensorProto } from './proto.ts';

/** IR 8 / opset 17: new enough for LayerNormalization, old enough for every ORT 1.14+ and onnx-proto 8. */
export const IR_VERSION = 8;
export const OPSET = 17;
export const PRODUCER_NAME = 'imagine-builder';
/** Bump when the generated graphs or weights change, so cached model folders can be told apart. */
export const BUILDER_VERSION = '3';

/** protobuf refuses messages of 2 GiB; staying well below also keeps inline encoding's double copy affordable. */
export const EXTERNAL_DATA_THRESHOLD_BYTES = 1024 ** 3;
/** Like onnx.save's align_offset: large tensors start on 64 KiB (Windows' mmap granularity), others on 64 B. */
const LARGE_TENSOR_BYTES = 1024 ** 2;
const LARGE_ALIGN = 64 * 1024;
const SMALL_ALIGN = 64;

export interface WriteModelOptions {
  seed: number;
  /** Store weights in `weightsFileName` beside the model instead of inside it. */
  externalData: boolean;
  weightsFileName?: string;
}

export interface WrittenModel {
  modelBytes: number;
  /** Size of the external data file; 0 when the weights are inline. */
  weightsBytes: number;
  parameters: number;
  externalData: boolean;
}

export function weightBytes(graph: BuiltGraph): number {
  return graph.weights.reduce((sum, w) => sum + numel(w.dims) * BYTES_PER_ELEMENT[w.type], 0);
}

export function parameterCount(graph: BuiltGraph): number {
  return graph.weights.reduce((sum, w) => sum + numel(w.dims), 0);
}

function constTensor(c: ConstSpec): ITensorProto {
  return { name: c.name, dims: [...c.dims], dataType: DataType[c.type], rawData: c.data };
}

/** One weight as the little-endian bytes ONNX raw_data holds; `reuse` writes into shared scratch (valid until the next call). */
class WeightGenerator {
  private f32 = new Float32Array(0);
  private f16 = new Uint16Array(0);

  constructor(private readonly seed: number) {}

  bytes(w: WeightSpec, reuse: boolean): Uint8Array {
    const n = numel(w.dims);
    if (reuse && this.f32.length < n) this.f32 = new Float32Array(n);
    const values = reuse ? this.f32.subarray(0, n) : new Float32Array(n);
    fillUniform(values, tensorSeed(this.seed, w.name), w.mean, w.std);
    if (w.type === 'float32') return bytesOf(values);
    if (reuse && this.f16.length < n) this.f16 = new Uint16Array(n);
    const half = reuse ? this.f16.subarray(0, n) : new Uint16Array(n);
    for (let i = 0; i < n; i++) half[i] = toHalfBits(values[i]!);
    return bytesOf(half);
  }
}

function modelProto(graph: BuiltGraph, initializer: ITensorProto[]): IModelProto {
  return {
    irVersion: IR_VERSION,
    producerName: PRODUCER_NAME,
    producerVersion: BUILDER_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: graph.name,
      node: [...graph.nodes],
      input: [...graph.inputs],
      output: [...graph.outputs],
      initializer,
    },
  };
}

/**
 * Writes `graph` to `modelPath`. Inline mode holds every weight plus the encoded message in memory
 * (fine below EXTERNAL_DATA_THRESHOLD_BYTES). External mode writes a small model.onnx whose weight
 * initializers point into one data file, then generates and appends weights one at a time, so
 * memory stays at the largest single tensor however big the model is.
 */
export async function writeOnnxModel(graph: BuiltGraph, modelPath: string, options: WriteModelOptions): Promise<WrittenModel> {
  const generator = new WeightGenerator(options.seed);
  const consts = graph.consts.map(constTensor);
  const parameters = parameterCount(graph);

  if (!options.externalData) {
    const weights = graph.weights.map(
      (w): ITensorProto => ({ name: w.name, dims: [...w.dims], dataType: DataType[w.type], rawData: generator.bytes(w, false) }),
    );
    const bytes = onnx.ModelProto.encode(modelProto(graph, [...weights, ...consts])).finish();
    await writeFile(modelPath, bytes);
    return { modelBytes: bytes.length, weightsBytes: 0, parameters, externalData: false };
  }

  const location = options.weightsFileName ?? 'weights.pb';
  const layout: { spec: WeightSpec; offset: number; length: number }[] = [];
  let end = 0;
  for (const spec of graph.weights) {
    const length = numel(spec.dims) * BYTES_PER_ELEMENT[spec.type];
    const align = length >= LARGE_TENSOR_BYTES ? LARGE_ALIGN : SMALL_ALIGN;
    const offset = Math.ceil(end / align) * align;
    layout.push({ spec, offset, length });
    end = offset + length;
  }
  const weights = layout.map(
    ({ spec, offset, length }): ITensorProto => ({
      name: spec.name,
      dims: [...spec.dims],
      dataType: DataType[spec.type],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ],
    }),
  );
  const bytes = onnx.ModelProto.encode(modelProto(graph, [...weights, ...consts])).finish();
  await writeFile(modelPath, bytes);

  const dataPath = join(dirname(modelPath), location);
  const file = await open(dataPath, 'w');
  try {
    let position = 0;
    for (const { spec, offset } of layout) {
      if (offset > position) {
        await file.write(new Uint8Array(offset - position));
        position = offset;
      }
      const data = generator.bytes(spec, true);
      await file.write(data);
      position += data.length;
    }
  } finally {
    await file.close();
  }
  return { modelBytes: bytes.length, weightsBytes: end, parameters, externalData: true };
}
