import { readFile } from 'node:fs/promises';
import { EngineError } from '../types.ts';

/** A problem with one file of a model folder; the message names the file and what is wrong. */
export class ModelFileError extends EngineError {
  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super('model-invalid', `${path}: ${problem}`, options);
  }

  static fromIo(path: string, error: unknown): ModelFileError {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT') return new ModelFileError(path, 'file is missing', { cause: error });
    if (code === 'EACCES' || code === 'EPERM') return new ModelFileError(path, 'permission denied', { cause: error });
    if (code === 'EISDIR') return new ModelFileError(path, 'is a folder, expected a file', { cause: error });
    return new ModelFileError(path, `cannot be read (${code ?? String(error)})`, { cause: error });
  }
}

export async function readJsonFile<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw ModelFileError.fromIo(path, error);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new ModelFileError(path, `is not valid JSON (${(error as Error).message})`, { cause: error });
  }
}
