import type * as ort from 'onnxruntime-node';
import { ortErrorDetail } from '../model/ort-errors.ts';
import { EngineError } from '../types.ts';

export { ortErrorDetail } from '../model/ort-errors.ts';

/** Runs one session; a failure becomes an EngineError naming the part and keeping ONNX Runtime's reason. */
export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  part: string,
  fetches?: readonly string[],
): Promise<ort.InferenceSession.OnnxValueMapType> {
  try {
    return fetches ? await session.run(feeds, [...fetches]) : await session.run(feeds);
  } catch (error) {
    throw new EngineError('engine-failed', `${part} failed while running: ${ortErrorDetail(error)}`, { cause: error });
  }
}
