import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jsonFile, modelIndex, schedulerConfig } from './configs.ts';
import { buildAtomically, writeText } from './folder.ts';
import type { BuiltGraph } from './graph.ts';
import { BUILDER_VERSION, EXTERNAL_DATA_THRESHOLD_BYTES, weightBytes, writeOnnxModel, type WrittenModel } from './onnx-writer.ts';
import { BuildOptionsError, resolveOptions, type BuildModelOptions, type ComponentName, type TinySdOptions } from './options.ts';
import { buildTextEncoder, textEncoderConfig, textEncoderVocabSize } from './text-encoder.ts';
import { buildTokenizer, secondTokenizerFiles } from './tokenizer-files.ts';
import { buildUnet, unetConfig } from './unet.ts';
import { buildVaeDecoder, vaeDecoderConfig } from './vae-decoder.ts';
import { buildVaeEncoder, vaeEncoderConfig } from './vae-encoder.ts';
import { buildSafetyChecker, safetyPreprocessorConfig } from './safety-checker.ts';

export {
  BuildOptionsError,
  COMPONENT_NAMES,
  PRESETS,
  PRESET_NAMES,
  PREDICTION_TYPES,
  SD15_PRESET,
  SDXL_PRESET,
  TINY_SDXL_PRESET,
  BUILD_FAMILIES,
  TEXT_ACTIVATIONS,
  INPUT_IDS_DTYPES,
  TIMESTEP_DTYPES,
  TIMESTEP_SHAPES,
  TINY_PRESET,
  EXTERNAL_DATA_MODES,
  resolveOptions,
} from './options.ts';
export type {
  BuildFamily,
  BuildModelOptions,
  TextActivation,
  ComponentName,
  ExternalDataMode,
  PredictionType,
  PresetName,
  TextEncoderOptions,
  InputIdsDtype,
  TimestepDtype,
  TimestepShape,
  TinySdOptions,
  TokenizerOptions,
  UnetOptions,
  VaeDecoderOptions,
} from './options.ts';
// The engine's float16 conversion, under the names this module has always exported.
export { halfToFloat32 as float16BitsToFloat32, float32ToHalf as float32ToFloat16Bits } from '../../engine/model/float16.ts';
export { EXTERNAL_DATA_THRESHOLD_BYTES } from './onnx-writer.ts';
export { buildDdpmModel, TINY_DDPM_DEFAULTS, type TinyDdpmOptions } from './ddpm.ts';

export interface ComponentReport extends WrittenModel {
  seconds: number;
}

export interface BuildReport {
  outDir: string;
  options: TinySdOptions;
  tokenizerVocabSize: number;
  components: Partial<Record<ComponentName, ComponentReport>>;
  seconds: number;
}

/** protobuf's hard limit on one message; inline weights must fit in model.onnx below it. */
const PROTOBUF_LIMIT_BYTES = 2 ** 31 - 1;

function useExternalData(o: TinySdOptions, name: ComponentName, graph: BuiltGraph): boolean {
  const bytes = weightBytes(graph);
  if (o.externalData === 'never' && bytes >= PROTOBUF_LIMIT_BYTES - 64 * 1024 ** 2) {
    const gib = (bytes / 1024 ** 3).toFixed(2);
    throw new BuildOptionsError(`${name} has ${gib} GiB of weights, too much for one protobuf: use external data 'auto' or 'always'`);
  }
  if (o.externalData === 'auto') return bytes > EXTERNAL_DATA_THRESHOLD_BYTES;
  return o.externalData === 'always';
}

/**
 * Writes a random-weight Stable Diffusion (or SDXL) model folder in the diffusers / optimum ONNX
 * layout (model_index.json, scheduler/, tokenizer/, text_encoder/, unet/, vae_decoder/; SDXL adds
 * tokenizer_2/ and text_encoder_2/; vae_encoder/ by default, and with `safetyChecker` safety_checker/ and
 * feature_extractor/). The folder
 * appears only once complete, replacing any previous one. Same options, same bytes.
 */
export async function buildModel(outDir: string, options: BuildModelOptions = {}): Promise<BuildReport> {
  const o = resolveOptions(options);
  const started = performance.now();
  return buildAtomically(outDir, async (dir) => {
    const tokenizer = buildTokenizer(o.tokenizer);
    for (const [name, contents] of Object.entries(tokenizer.files)) await writeText(dir, join('tokenizer', name), contents);
    if (o.family === 'sdxl') {
      for (const [name, contents] of Object.entries(secondTokenizerFiles(tokenizer))) await writeText(dir, join('tokenizer_2', name), contents);
    }
    await writeText(dir, 'model_index.json', jsonFile(modelIndex(o)));
    await writeText(dir, join('scheduler', 'scheduler_config.json'), jsonFile(schedulerConfig(o)));

    const vocabSize = textEncoderVocabSize(o, tokenizer.vocab.length);
    const components: BuildReport['components'] = {};
    const parts: Record<ComponentName, { graph: () => BuiltGraph; config: () => Record<string, unknown> }> = {
      text_encoder: {
        graph: () => buildTextEncoder(o, vocabSize),
        config: () => textEncoderConfig(o, vocabSize, tokenizer.bosId, tokenizer.eosId),
      },
      text_encoder_2: {
        graph: () => buildTextEncoder(o, textEncoderVocabSize(o, tokenizer.vocab.length, 'text_encoder_2'), 'text_encoder_2'),
        config: () => textEncoderConfig(o, textEncoderVocabSize(o, tokenizer.vocab.length, 'text_encoder_2'), tokenizer.bosId, tokenizer.eosId, 'text_encoder_2'),
      },
      unet: { graph: () => buildUnet(o), config: () => unetConfig(o) },
      vae_decoder: { graph: () => buildVaeDecoder(o), config: () => vaeDecoderConfig(o) },
      vae_encoder: { graph: () => buildVaeEncoder(o), config: () => vaeEncoderConfig(o) },
    };
    for (const name of o.components) {
      const t0 = performance.now();
      await mkdir(join(dir, name), { recursive: true });
      const graph = parts[name].graph();
      const written = await writeOnnxModel(graph, join(dir, name, 'model.onnx'), {
        seed: o.seed,
        externalData: useExternalData(o, name, graph),
      });
      await writeText(dir, join(name, 'config.json'), jsonFile(parts[name].config()));
      components[name] = { ...written, seconds: (performance.now() - t0) / 1000 };
    }
    if (o.safetyChecker) {
      await mkdir(join(dir, 'safety_checker'), { recursive: true });
      await writeOnnxModel(buildSafetyChecker(o.safetyThreshold), join(dir, 'safety_checker', 'model.onnx'), { seed: o.seed, externalData: false });
      await writeText(dir, join('feature_extractor', 'preprocessor_config.json'), jsonFile(safetyPreprocessorConfig()));
    }
    return { outDir, options: o, tokenizerVocabSize: tokenizer.vocab.length, components, seconds: (performance.now() - started) / 1000 };
  });
}

/**
 * Builds the folder unless a finished one from this builder version is already there (a
 * half-built one never is: see buildModel); an older build is replaced, since its graphs differ.
 */
export async function ensureModel(outDir: string, options: BuildModelOptions = {}): Promise<BuildReport | null> {
  let index: { _imagine_builder_version?: unknown } | undefined;
  try {
    index = JSON.parse(await readFile(join(outDir, 'model_index.json'), 'utf8')) as typeof index;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !(error instanceof SyntaxError)) throw error;
  }
  if (index?._imagine_builder_version === BUILDER_VERSION) return null;
  return buildModel(outDir, options);
}
