import type { GenerationOutput } from '../pipeline/generate.ts';
import type { GenerationProgress, ModelInfo, ProviderChoice, ResolvedProvider, ResolvedRequest, RgbImage } from '../types.ts';
import type { EngineLogger } from '../logger.ts';
import type { SessionSettings } from '../providers.ts';

export interface BackendOptions {
  modelDir: string;
  provider: ProviderChoice;
  logger: EngineLogger;
  /** ONNX Runtime memory and thread settings; default DEFAULT_SESSION_SETTINGS. */
  session?: SessionSettings;
}

export interface LoadedBackendInfo {
  model: ModelInfo;
  provider: ResolvedProvider;
  providerReason: string;
}

export interface BackendJob {
  request: ResolvedRequest;
  /** img2img: the decoded init image, already at the request's size. */
  initImage?: RgbImage;
  /** Run the folder's safety checker when it has one (default true). */
  safetyCheck?: boolean;
  signal?: AbortSignal;
  previewEvery: number;
  onProgress?(progress: GenerationProgress): void;
}

/**
 * Where the ONNX sessions live and run. `session.run` is a synchronous native call that holds its
 * thread for the whole UNet evaluation, so the default backend keeps it off the caller's thread.
 * Backends run one job at a time; the engine facade serialises calls.
 */
export interface EngineBackend {
  load(): Promise<LoadedBackendInfo>;
  run(job: BackendJob): Promise<GenerationOutput>;
  close(): Promise<void>;
}
