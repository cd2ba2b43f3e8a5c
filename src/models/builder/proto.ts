// onnx-proto is CommonJS; under NodeNext its default import is the whole module.exports.
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

export const onnx = onnxProto.onnx;

export type IModelProto = OnnxTypes.IModelProto;
export type IGraphProto = OnnxTypes.IGraphProto;
export type INodeProto = OnnxTypes.INodeProto;
export type ITensorProto = OnnxTypes.ITensorProto;
export type IAttributeProto = OnnxTypes.IAttributeProto;
export type IValueInfoProto = OnnxTypes.IValueInfoProto;
export type ITensorShapeProto = OnnxTypes.ITensorShapeProto;

/** TensorProto.DataType codes for the element types the builder emits. */
export const DataType = {
  float32: 1,
  bool: 9,
  int32: 6,
  int64: 7,
  float16: 10,
} as const;
export type ElemType = keyof typeof DataType;
export type FloatType = 'float32' | 'float16';

export const BYTES_PER_ELEMENT: Record<ElemType, number> = { float32: 4, bool: 1, int32: 4, int64: 8, float16: 2 };
