import type { GenerationOutput } from '../pipeline/generate.ts';
import type { ErrorCode, GenerationProgress, ProviderChoice, ResolvedRequest, RgbImage } from '../types.ts';
import type { SessionSettings } from '../providers.ts';
import type { LoadedBackendInfo } from './backend.ts';

export interface WorkerInit {
  modelDir: string;
  provider: ProviderChoice;
  session: SessionSettings | undefined;
}

export interface SerializedError {
  /** Set for EngineErrors: their message is meant for users. */
  code: ErrorCode | undefined;
  message: string;
  stack: string | undefined;
}

export type ToWorker =
  | {
      type: 'run';
      jobId: number;
      request: ResolvedRequest;
      initImage: RgbImage | undefined;
      safetyCheck: boolean;
      previewEvery: number;
      wantsProgress: boolean;
      cancelFlag: SharedArrayBuffer;
    }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; info: LoadedBackendInfo }
  | { type: 'load-failed'; error: SerializedError }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: object; msg: string | undefined }
  | { type: 'progress'; jobId: number; progress: GenerationProgress }
  | { type: 'done'; jobId: number; output: GenerationOutput }
  | { type: 'failed'; jobId: number; error: SerializedError }
  | { type: 'closed' };
