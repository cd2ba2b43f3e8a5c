import { EngineError } from '../types.ts';
import type { SerializedError } from './messages.ts';

export function serializeError(error: unknown): SerializedError {
  if (error instanceof EngineError) return { code: error.code, message: error.message, stack: error.stack };
  if (error instanceof Error) return { code: undefined, message: error.message, stack: error.stack };
  return { code: undefined, message: String(error), stack: undefined };
}

/** EngineErrors cross the thread boundary intact; anything else becomes a generic engine failure. */
export function deserializeError(error: SerializedError): EngineError {
  if (error.code) {
    const restored = new EngineError(error.code, error.message);
    if (error.stack) restored.stack = error.stack;
    return restored;
  }
  const cause = new Error(error.message);
  if (error.stack) cause.stack = error.stack;
  return new EngineError('engine-failed', `internal engine error: ${error.message}`, { cause });
}
