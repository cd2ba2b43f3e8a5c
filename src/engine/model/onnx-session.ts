import * as ort from 'onnxruntime-node';
import { silentLogger, type EngineLogger } from '../logger.ts';
import { ModelFileError } from './files.ts';
import { ortErrorDetail } from './ort-errors.ts';
import { openWithOptimizedCache } from './optimized-graph.ts';

export type TensorMetadata = ort.InferenceSession.TensorValueMetadata;

/** Turns ONNX Runtime's load errors into one line that names the file and the likely cause. */
function describeLoadError(path: string, error: unknown): ModelFileError {
  const raw = error instanceof Error ? error.message : String(error);
  const detail = ortErrorDetail(error);
  if (/protobuf parsing failed|invalid_protobuf|failed to parse|ModelProto/i.test(raw)) {
    return new ModelFileError(path, `is not a valid ONNX model (truncated or corrupt file): ${detail}`, { cause: error });
  }
  if (/external data|\.onnx_data|weights\.pb|External initializer|GetExtDataFromTensorProto|open file/i.test(raw)) {
    return new ModelFileError(path, `its external weights file is missing or incomplete: ${detail}`, { cause: error });
  }
  return new ModelFileError(path, `ONNX Runtime could not load it: ${detail}`, { cause: error });
}

async function createSession(path: string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, options);
  } catch (error) {
    throw describeLoadError(path, error);
  }
}

/** Opens a graph, through the saved optimised graph for large CPU models (see optimized-graph.ts). */
export async function openSession(path: string, options: ort.InferenceSession.SessionOptions, log: EngineLogger = silentLogger): Promise<ort.InferenceSession> {
  const started = performance.now();
  const opened = await openWithOptimizedCache(path, options, createSession);
  const ms = Math.round(performance.now() - started);
  if (opened.note) log.warn({ path, note: opened.note }, `optimised graph cache: ${opened.note}`);
  log.debug({ path, source: opened.source, ms }, `opened ${path} in ${ms} ms (${opened.source})`);
  return opened.session;
}

export interface TensorSpec {
  names: readonly string[];
  types: readonly ort.Tensor.Type[];
  ranks: readonly number[];
}

/** Finds a tensor input/output by its diffusers name and checks dtype and rank, else names the problem. */
export function requireTensor(
  path: string,
  list: readonly ort.InferenceSession.ValueMetadata[],
  direction: 'input' | 'output',
  spec: TensorSpec,
): TensorMetadata {
  const found = list.find((m) => spec.names.includes(m.name));
  if (!found) {
    const have = list.map((m) => m.name).join(', ') || 'none';
    throw new ModelFileError(path, `has no ${direction} named ${spec.names.join(' or ')} (it has: ${have}); is this the right part of the model?`);
  }
  if (!found.isTensor) throw new ModelFileError(path, `${direction} ${found.name} is not a tensor`);
  if (!spec.types.includes(found.type)) {
    throw new ModelFileError(path, `${direction} ${found.name} has dtype ${found.type}, expected ${spec.types.join(' or ')}`);
  }
  // An empty shape list means ONNX did not record the shape at all; only check recorded ranks.
  const rank = found.shape.length;
  const shapeUnrecorded = rank === 0 && !spec.ranks.includes(0);
  if (!shapeUnrecorded && !spec.ranks.includes(rank)) {
    throw new ModelFileError(path, `${direction} ${found.name} has rank ${rank} [${found.shape.join(', ')}], expected rank ${spec.ranks.join(' or ')}`);
  }
  return found;
}

/** A dimension fixed in the graph, or undefined for a symbolic/unknown one. */
export function fixedDim(meta: TensorMetadata, axis: number): number | undefined {
  const dim = meta.shape.at(axis);
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}
