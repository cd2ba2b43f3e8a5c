import { readFile, writeFile } from 'node:fs/promises';
import { DataType, onnx, type IModelProto } from '../../src/models/builder/proto.ts';

/** Rewrites an ONNX file in place: decode, let `edit` change the ModelProto, encode. */
export async function editOnnx(path: string, edit: (model: IModelProto) => void): Promise<void> {
  const model = onnx.ModelProto.decode(await readFile(path));
  edit(model);
  await writeFile(path, onnx.ModelProto.encode(model).finish());
}

/** Fixes dimension `axis` of graph input `name` to `size`. */
export function fixInputDim(model: IModelProto, name: string, axis: number, size: number): void {
  const input = model.graph!.input!.find((i) => i.name === name)!;
  input.type!.tensorType!.shape!.dim![axis] = { dimValue: size };
}

/** Adds an (unused) float32 graph input: ONNX Runtime accepts it and lists it in inputNames. */
export function addFloatInput(model: IModelProto, name: string, dims: (number | string)[]): void {
  model.graph!.input!.push({
    name,
    type: { tensorType: { elemType: DataType.float32, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
}

/** Replaces a float32 initializer's values (e.g. with NaN) keeping its shape. */
export function setInitializer(model: IModelProto, name: string, value: number): void {
  const init = model.graph!.initializer!.find((t) => t.name === name)!;
  const count = (init.dims ?? []).reduce<number>((a, b) => a * Number(b), 1);
  init.rawData = new Uint8Array(new Float32Array(count).fill(value).buffer);
  init.floatData = [];
}

/** Replaces an int64 initializer's values. */
export function setInt64Initializer(model: IModelProto, name: string, values: number[]): void {
  const init = model.graph!.initializer!.find((t) => t.name === name)!;
  init.rawData = new Uint8Array(BigInt64Array.from(values, BigInt).buffer);
  init.int64Data = [];
  init.dims = [values.length];
}
