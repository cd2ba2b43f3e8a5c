import { float32ToHalf } from '../../engine/model/float16.ts';
import {
  DataType,
  onnx,
  type ElemType,
  type FloatType,
  type IAttributeProto,
  type INodeProto,
  type IValueInfoProto,
} from './proto.ts';

/** A dimension: a fixed size, or a symbolic name shared by inputs and outputs (`batch`, `height`). */
export type Dim = number | string;

export type AttrValue =
  | { readonly i: number }
  | { readonly f: number }
  | { readonly s: string }
  | { readonly ints: readonly number[] };
export type Attrs = Readonly<Record<string, AttrValue>>;

/** Learned parameter. Values are produced only when the writer gets to it: `mean + std * uniform`. */
export interface WeightSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: FloatType;
  readonly mean: number;
  readonly std: number;
}

/** Literal tensor (shapes, axes, scalars, tables); small, always stored inside model.onnx. */
export interface ConstSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: ElemType;
  readonly data: Uint8Array;
}

export interface BuiltGraph {
  readonly name: string;
  readonly nodes: readonly INodeProto[];
  readonly inputs: readonly IValueInfoProto[];
  readonly outputs: readonly IValueInfoProto[];
  readonly consts: readonly ConstSpec[];
  readonly weights: readonly WeightSpec[];
}

export function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function valueInfo(name: string, type: ElemType, shape: readonly Dim[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function encodeAttr(name: string, value: AttrValue): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('i' in value) return { name, type: T.INT, i: value.i };
  if ('f' in value) return { name, type: T.FLOAT, f: value.f };
  if ('s' in value) return { name, type: T.STRING, s: new TextEncoder().encode(value.s) };
  return { name, type: T.INTS, ints: [...value.ints] };
}

/** The bytes behind a typed array (a view, not a copy). */
export function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Records an ONNX graph: nodes in topological order (the order they are added), inputs, outputs,
 * literal constants and lazily generated weights. Value names are made unique here so layer code
 * can name things after the diffusers/transformers module they mirror without bookkeeping.
 */
export class GraphBuilder {
  private readonly nodes: INodeProto[] = [];
  private readonly inputs: IValueInfoProto[] = [];
  private readonly outputs: IValueInfoProto[] = [];
  private readonly consts: ConstSpec[] = [];
  private readonly weights: WeightSpec[] = [];
  private readonly used = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private readonly renames = new Map<string, string>();

  constructor(
    readonly name: string,
    readonly floatType: FloatType,
  ) {}

  private unique(hint: string): string {
    let name = hint;
    for (let n = 1; this.used.has(name); n++) name = `${hint}_${n}`;
    this.used.add(name);
    return name;
  }

  input(name: string, type: ElemType, shape: readonly Dim[]): string {
    if (this.used.has(name)) throw new Error(`duplicate graph value name ${name}`);
    this.used.add(name);
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  /** Declares `value` a graph output called `name`: the producing node's output is renamed, no Identity. */
  output(value: string, name: string, type: ElemType, shape: readonly Dim[]): void {
    if (value !== name) {
      if (this.used.has(name)) throw new Error(`duplicate graph value name ${name}`);
      this.used.add(name);
      this.renames.set(value, name);
    }
    this.outputs.push(valueInfo(name, type, shape));
  }

  op(opType: string, inputs: readonly string[], attrs: Attrs = {}, hint = opType): string {
    return this.opN(opType, inputs, 1, attrs, hint)[0]!;
  }

  opN(opType: string, inputs: readonly string[], outputCount: number, attrs: Attrs = {}, hint = opType): string[] {
    const name = this.unique(hint);
    const outputs = outputCount === 1 ? [name] : Array.from({ length: outputCount }, (_, i) => this.unique(`${hint}:${i}`));
    const attribute = Object.keys(attrs)
      .sort()
      .map((key) => encodeAttr(key, attrs[key]!));
    this.nodes.push({ name, opType, input: [...inputs], output: outputs, ...(attribute.length > 0 ? { attribute } : {}) });
    return outputs;
  }

  /** A learned parameter named like its PyTorch state-dict key (the name also seeds its values). */
  weight(name: string, dims: readonly number[], init: { mean?: number; std: number }): string {
    if (this.used.has(name)) throw new Error(`duplicate weight ${name}`);
    this.used.add(name);
    this.weights.push({ name, dims: [...dims], type: this.floatType, mean: init.mean ?? 0, std: init.std });
    return name;
  }

  private literal(type: ElemType, dims: readonly number[], data: Uint8Array, hint: string): string {
    // Identical literals (an axes list, the constant 1) are shared, as exporters' constant folding does.
    const key = `${type}|${dims.join(',')}|${Buffer.from(data).toString('base64')}`;
    const cached = this.constCache.get(key);
    if (cached !== undefined) return cached;
    const name = this.unique(hint);
    this.consts.push({ name, dims: [...dims], type, data: data.slice() });
    this.constCache.set(key, name);
    return name;
  }

  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.literal('int64', dims, bytesOf(BigInt64Array.from(values, (v) => BigInt(v))), 'const_i64');
  }

  float32(values: ArrayLike<number>, dims: readonly number[]): string {
    return this.literal('float32', dims, bytesOf(Float32Array.from(values)), 'const_f32');
  }

  /** A literal in the model's float type (float16 models need float16 operands for Mul, Add, ...). */
  float(values: ArrayLike<number>, dims: readonly number[] = []): string {
    const f32 = Float32Array.from(values);
    if (this.floatType === 'float32') return this.literal('float32', dims, bytesOf(f32), 'const_f32');
    return this.literal('float16', dims, bytesOf(float32ToHalf(f32)), 'const_f16');
  }

  finish(): BuiltGraph {
    const rename = (n: string): string => this.renames.get(n) ?? n;
    const nodes = this.nodes.map((node) => ({
      ...node,
      input: (node.input ?? []).map(rename),
      output: (node.output ?? []).map(rename),
    }));
    return {
      name: this.name,
      nodes,
      inputs: this.inputs,
      outputs: this.outputs,
      consts: this.consts,
      weights: this.weights,
    };
  }
}
