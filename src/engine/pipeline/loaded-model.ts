import type * as ort from 'onnxruntime-node';
import { readModelFolder, type ModelFolder } from '../model/model-folder.ts';
import { fixedDim, openSession, requireTensor, type TensorMetadata } from '../model/onnx-session.ts';
import { ModelFileError } from '../model/files.ts';
import { DEFAULT_SESSION_SETTINGS, planProviders, sessionOptions, type SessionSettings } from '../providers.ts';
import { loadClipTokenizer, type PromptTokenizer } from '../tokenizer/clip-tokenizer.ts';
import type { EngineLogger } from '../logger.ts';
import { EngineError, type ModelInfo, type ProviderChoice, type ResolvedProvider } from '../types.ts';

export type FloatType = 'float32' | 'float16';
/** How the UNet wants its timestep: diffusers exports `[1]`; others use a scalar or one per batch row. */
export type TimestepLayout = 'scalar' | 'single' | 'batch';

export interface LoadedModel {
  folder: ModelFolder;
  info: ModelInfo;
  provider: ResolvedProvider;
  providerReason: string;
  tokenizer: PromptTokenizer;
  textEncoder: { session: ort.InferenceSession; inputName: string; idsType: 'int32' | 'int64'; outputName: string };
  unet: {
    session: ort.InferenceSession;
    sampleName: string;
    sampleType: FloatType;
    timestepName: string;
    timestepType: 'float32' | 'float16' | 'int64' | 'int32';
    timestepLayout: TimestepLayout;
    contextName: string;
    contextType: FloatType;
    outputName: string;
    outputType: FloatType;
  };
  vae: { session: ort.InferenceSession; inputName: string; inputType: FloatType; outputName: string; outputType: FloatType };
  release(): Promise<void>;
}

const FLOATS = ['float32', 'float16'] as const;

function timestepLayout(meta: TensorMetadata): TimestepLayout {
  if (meta.shape.length === 0) return 'scalar';
  const dim = meta.shape[0];
  return dim === 1 ? 'single' : 'batch';
}

/** A GPU provider that cannot start is the machine's problem, not the model file's: say so. */
function providerFailure(provider: ResolvedProvider, error: unknown): EngineError | undefined {
  if (provider === 'cpu') return undefined;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const detail = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0]!;
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

async function openAll(folder: ModelFolder, provider: ResolvedProvider, settings: SessionSettings, log: EngineLogger) {
  const options = sessionOptions(provider, settings);
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const path of [folder.textEncoderPath, folder.unetPath, folder.vaeDecoderPath]) {
      sessions.push(await openSession(path, options, log));
    }
  } catch (error) {
    await Promise.all(sessions.map((s) => s.release()));
    throw providerFailure(provider, error) ?? error;
  }
  const [textEncoder, unet, vae] = sessions as [ort.InferenceSession, ort.InferenceSession, ort.InferenceSession];
  return { textEncoder, unet, vae };
}

/**
 * Opens the three sessions once, on the first provider of the plan that can load them, and reads
 * every input's name, dtype and layout from the session metadata rather than assuming SD 1.5's.
 */
export async function loadModel(
  dir: string,
  providerChoice: ProviderChoice,
  log: EngineLogger,
  settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
): Promise<LoadedModel> {
  const folder = await readModelFolder(dir);
  const tokenizer = await loadClipTokenizer(folder.tokenizerDir);
  const plan = planProviders(providerChoice);

  let sessions: Awaited<ReturnType<typeof openAll>> | undefined;
  let chosen = plan.candidates[0]!;
  for (const [index, candidate] of plan.candidates.entries()) {
    try {
      sessions = await openAll(folder, candidate.provider, settings, log);
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
    const te = folder.textEncoderPath;
    const ids = requireTensor(te, sessions.textEncoder.inputMetadata, 'input', { names: ['input_ids'], types: ['int32', 'int64'], ranks: [2] });
    const hidden = requireTensor(te, sessions.textEncoder.outputMetadata, 'output', {
      names: ['last_hidden_state'],
      types: [...FLOATS],
      ranks: [3],
    });

    const un = folder.unetPath;
    const sample = requireTensor(un, sessions.unet.inputMetadata, 'input', { names: ['sample'], types: [...FLOATS], ranks: [4] });
    const timestep = requireTensor(un, sessions.unet.inputMetadata, 'input', {
      names: ['timestep'],
      types: ['float32', 'float16', 'int64', 'int32'],
      ranks: [0, 1],
    });
    const context = requireTensor(un, sessions.unet.inputMetadata, 'input', { names: ['encoder_hidden_states'], types: [...FLOATS], ranks: [3] });
    const noise = requireTensor(un, sessions.unet.outputMetadata, 'output', { names: ['out_sample', 'sample', 'noise_pred'], types: [...FLOATS], ranks: [4] });
    if (fixedDim(sample, 1) !== undefined && fixedDim(sample, 1) !== 4) {
      throw new ModelFileError(un, `input sample has ${fixedDim(sample, 1)} channels; only 4-channel latent UNets (text-to-image) are supported`);
    }
    const textWidth = fixedDim(hidden, 2);
    const contextWidth = fixedDim(context, 2);
    if (textWidth !== undefined && contextWidth !== undefined && textWidth !== contextWidth) {
      throw new ModelFileError(
        un,
        `encoder_hidden_states width ${contextWidth} does not match the text encoder's output width ${textWidth}: the parts come from different models`,
      );
    }

    const vd = folder.vaeDecoderPath;
    const latent = requireTensor(vd, sessions.vae.inputMetadata, 'input', { names: ['latent_sample'], types: [...FLOATS], ranks: [4] });
    const image = requireTensor(vd, sessions.vae.outputMetadata, 'output', { names: ['sample'], types: [...FLOATS], ranks: [4] });
    if (fixedDim(image, 1) !== undefined && fixedDim(image, 1) !== 3) {
      throw new ModelFileError(vd, `output sample has ${fixedDim(image, 1)} channels, expected 3 (RGB)`);
    }

    const nativeSize = (folder.sampleSize ?? 64) * 8;
    const info: ModelInfo = {
      name: folder.name,
      path: folder.dir,
      nativeWidth: nativeSize,
      nativeHeight: nativeSize,
      defaultScheduler: folder.nativeScheduler ?? 'euler',
      predictionType: predictionTypeOf(folder),
      precision: sample.type === 'float16' ? 'float16' : 'float32',
    };
    const loaded = sessions;
    return {
      folder,
      info,
      provider: chosen.provider,
      providerReason: chosen.reason,
      tokenizer,
      textEncoder: { session: loaded.textEncoder, inputName: ids.name, idsType: ids.type as 'int32' | 'int64', outputName: hidden.name },
      unet: {
        session: loaded.unet,
        sampleName: sample.name,
        sampleType: sample.type as FloatType,
        timestepName: timestep.name,
        timestepType: timestep.type as LoadedModel['unet']['timestepType'],
        timestepLayout: timestepLayout(timestep),
        contextName: context.name,
        contextType: context.type as FloatType,
        outputName: noise.name,
        outputType: noise.type as FloatType,
      },
      vae: {
        session: loaded.vae,
        inputName: latent.name,
        inputType: latent.type as FloatType,
        outputName: image.name,
        outputType: image.type as FloatType,
      },
      async release() {
        await Promise.all([loaded.textEncoder.release(), loaded.unet.release(), loaded.vae.release()]);
      },
    };
  } catch (error) {
    await Promise.all([sessions.textEncoder.release(), sessions.unet.release(), sessions.vae.release()]);
    throw error;
  }
}

function predictionTypeOf(folder: ModelFolder): ModelInfo['predictionType'] {
  const value = folder.schedulerConfig.prediction_type;
  if (value === undefined || value === null) return 'epsilon';
  if (value === 'epsilon' || value === 'v_prediction' || value === 'sample') return value;
  throw new ModelFileError(`${folder.dir}/scheduler/scheduler_config.json`, `unsupported prediction_type ${JSON.stringify(value)}`);
}
