import type * as ort from 'onnxruntime-node';
import { readModelFolder, type ModelFolder } from '../model/model-folder.ts';
import { openSession } from '../model/onnx-session.ts';
import { ModelFileError } from '../model/files.ts';
import { ortErrorDetail } from '../model/ort-errors.ts';
import { DEFAULT_SESSION_SETTINGS, planProviders, sessionOptions, type SessionSettings } from '../providers.ts';
import type { EngineLogger } from '../logger.ts';
import { EngineError, type ModelInfo, type ProviderChoice, type ResolvedProvider } from '../types.ts';
import { familyDefinition, type FamilyDefinition, type FamilyPipeline, type SessionSet } from './families/index.ts';
import { assembleOptionalParts, optionalPartPaths, type OptionalParts } from './optional-parts.ts';

export type { FloatType, TimestepLayout } from './unet.ts';

export interface LoadedModel {
  folder: ModelFolder;
  info: ModelInfo;
  provider: ResolvedProvider;
  providerReason: string;
  pipeline: FamilyPipeline;
  /** The VAE encoder and safety checker, when the folder has them. */
  parts: OptionalParts;
  release(): Promise<void>;
}

/** A GPU provider that cannot start is the machine's problem, not the model file's: say so. */
function providerFailure(provider: ResolvedProvider, error: unknown): EngineError | undefined {
  if (provider === 'cpu') return undefined;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const detail = ortErrorDetail(cause);
  if (provider === 'webgpu' && /adapter|webgpu|vulkan|dawn/i.test(detail)) {
    return new EngineError(
      'provider-unavailable',
      'provider webgpu: no WebGPU adapter found (it needs a GPU with Vulkan drivers and libvulkan.so.1); use --provider cpu or cuda',
      { cause: error },
    );
  }
  if (provider === 'cuda' && /cuda|cudnn|cublas|libcu|provider/i.test(detail)) {
    return new EngineError('provider-unavailable', `provider cuda: failed to start (${detail}); check the CUDA 12 and cuDNN 9 libraries, or use --provider cpu`, {
      cause: error,
    });
  }
  return undefined;
}

class OpenSessions implements SessionSet {
  constructor(private readonly byPath: ReadonlyMap<string, ort.InferenceSession>) {}

  get(path: string): ort.InferenceSession {
    const session = this.byPath.get(path);
    if (!session) throw new Error(`unreachable: session ${path} was not opened`);
    return session;
  }

  async release(): Promise<void> {
    await Promise.all([...this.byPath.values()].map((session) => session.release()));
  }
}

async function openAll(
  paths: readonly string[],
  denoiserPath: string,
  provider: ResolvedProvider,
  settings: SessionSettings,
  log: EngineLogger,
): Promise<OpenSessions> {
  const opened = new Map<string, ort.InferenceSession>();
  try {
    for (const path of paths) {
      const options = sessionOptions(provider, settings, 'all', path === denoiserPath ? 'denoiser' : 'one-shot');
      opened.set(path, await openSession(path, options, log));
    }
  } catch (error) {
    await Promise.all([...opened.values()].map((s) => s.release()));
    throw providerFailure(provider, error) ?? error;
  }
  return new OpenSessions(opened);
}

function predictionTypeOf(folder: ModelFolder): ModelInfo['predictionType'] {
  const value = folder.schedulerConfig.prediction_type;
  if (value === undefined || value === null) return 'epsilon';
  if (value === 'epsilon' || value === 'v_prediction' || value === 'sample') return value;
  throw new ModelFileError(`${folder.dir}/scheduler/scheduler_config.json`, `unsupported prediction_type ${JSON.stringify(value)}`);
}

function describeModel(folder: ModelFolder, definition: FamilyDefinition, pipeline: FamilyPipeline, parts: OptionalParts, log: EngineLogger): ModelInfo {
  let sampleSize = folder.sampleSize;
  if (sampleSize === undefined) {
    sampleSize = definition.defaultSampleSize;
    log.warn(
      { model: folder.dir, assumed: sampleSize * pipeline.decoder.scale },
      `${folder.dir}/unet/config.json has no sample_size: assuming a native size of ${sampleSize * pipeline.decoder.scale} px for a ${folder.family} model`,
    );
  }
  const nativeSize = sampleSize * pipeline.decoder.scale;
  return {
    name: folder.name,
    path: folder.dir,
    family: folder.family,
    nativeWidth: nativeSize,
    nativeHeight: nativeSize,
    defaultScheduler: folder.nativeScheduler ?? 'euler',
    predictionType: predictionTypeOf(folder),
    precision: pipeline.unet.sample.type,
    capabilities: {
      textToImage: folder.family !== 'unconditional',
      img2img: parts.initImageEncoder !== undefined,
      safetyChecker: parts.safetyChecker !== undefined,
      unconditional: folder.family === 'unconditional',
    },
  };
}

/**
 * Assembles a pipeline from a folder as diffusers' `from_pretrained` does: the folder's family
 * decides which sessions to open (once, on the first provider of the plan that can load them)
 * and how they are put together; every input's name, dtype and layout comes from the sessions.
 */
export async function loadModel(
  dir: string,
  providerChoice: ProviderChoice,
  log: EngineLogger,
  settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
): Promise<LoadedModel> {
  const folder = await readModelFolder(dir);
  const definition = familyDefinition(folder.family);
  const plan = planProviders(providerChoice);

  let sessions: OpenSessions | undefined;
  let chosen = plan.candidates[0]!;
  for (const [index, candidate] of plan.candidates.entries()) {
    try {
      sessions = await openAll([...definition.sessionPaths(folder), ...optionalPartPaths(folder)], folder.unetPath, candidate.provider, settings, log);
      chosen = candidate;
      break;
    } catch (error) {
      if (index === plan.candidates.length - 1) throw error;
      log.warn({ err: error, provider: candidate.provider }, 'execution provider failed to load the model; trying the next one');
    }
  }
  if (!sessions) throw new Error('unreachable: no provider candidates');
  log.info({ provider: chosen.provider, reason: chosen.reason }, `execution provider: ${chosen.reason}`);

  try {
    const pipeline = await definition.assemble({ folder, sessions, log });
    const parts = await assembleOptionalParts(folder, sessions);
    const info = describeModel(folder, definition, pipeline, parts, log);
    const opened = sessions;
    return {
      folder,
      info,
      provider: chosen.provider,
      providerReason: chosen.reason,
      pipeline,
      parts,
      release: () => opened.release(),
    };
  } catch (error) {
    await sessions.release();
    throw error;
  }
}
