import { Command, InvalidArgumentError, Option } from 'commander';
import {
  BuildOptionsError,
  COMPONENT_NAMES,
  EXTERNAL_DATA_MODES,
  PREDICTION_TYPES,
  PRESET_NAMES,
  INPUT_IDS_DTYPES,
  TIMESTEP_DTYPES,
  TIMESTEP_SHAPES,
  buildDdpmModel,
  buildModel,
  type BuildModelOptions,
  type ComponentName,
  type ExternalDataMode,
  type PredictionType,
  type PresetName,
  type InputIdsDtype,
  type TimestepDtype,
  type TimestepShape,
} from '../models/builder/index.ts';
import { choiceOption, integerOption } from './cli-errors.ts';

const PROGRAM = 'build-model';

/** Presets of other families, built by their own functions. */
const OTHER_PRESETS = ['tiny-ddpm'] as const;

interface CliOptions {
  out: string;
  preset: PresetName | (typeof OTHER_PRESETS)[number];
  safetyChecker?: boolean;
  safetyThreshold?: number;
  float16?: boolean;
  inputIdsDtype?: InputIdsDtype;
  timestepDtype?: TimestepDtype;
  timestepShape?: TimestepShape;
  predictionType?: PredictionType;
  scheduler?: string;
  seed?: number;
  timeCondProjDim?: number;
  externalData?: ExternalDataMode;
  only?: ComponentName[];
}

function componentList(value: string): ComponentName[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names) {
    if (!(COMPONENT_NAMES as readonly string[]).includes(name)) {
      throw new InvalidArgumentError(`--only takes a comma-separated list of ${COMPONENT_NAMES.join(', ')}, got "${value}"`);
    }
  }
  if (names.length === 0) throw new InvalidArgumentError(`--only needs at least one of ${COMPONENT_NAMES.join(', ')}`);
  return names as ComponentName[];
}

function numberOption(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`--safety-threshold must be a number, got "${value}"`);
  return n;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function fail(message: string, exitCode: number): never {
  process.stderr.write(`${PROGRAM}: ${message.split('\n')[0]}\n`);
  process.exit(exitCode);
}

const program = new Command()
  .name(PROGRAM)
  .description('Write a random-weight Stable Diffusion or SDXL model folder (diffusers ONNX layout) for tests and benchmarks.')
  .requiredOption('--out <dir>', 'model folder to create (replaced if it exists)')
  .addOption(
    new Option('--preset <name>', `architecture sizes: ${[...PRESET_NAMES, ...OTHER_PRESETS].join(', ')} (tiny-ddpm: unconditional DDPMPipeline)`)
      .default('tiny')
      .argParser(choiceOption('--preset', [...PRESET_NAMES, ...OTHER_PRESETS])),
  )
  .option('--safety-checker', 'also write a stand-in safety_checker/ and feature_extractor/')
  .option('--safety-threshold <x>', 'the stand-in checker flags images whose mean CLIP-normalised pixel exceeds x (default 1.5)', numberOption)
  .option('--float16', 'float16 weights and float inputs/outputs')
  .addOption(new Option('--input-ids-dtype <dtype>', `text encoder input_ids type: ${INPUT_IDS_DTYPES.join(', ')}`).argParser(choiceOption('--input-ids-dtype', INPUT_IDS_DTYPES)))
  .addOption(new Option('--timestep-dtype <dtype>', `UNet timestep type: ${TIMESTEP_DTYPES.join(', ')}`).argParser(choiceOption('--timestep-dtype', TIMESTEP_DTYPES)))
  .addOption(
    new Option('--timestep-shape <shape>', `UNet timestep shape: ${TIMESTEP_SHAPES.join(', ')} (1 means [1])`).argParser(choiceOption('--timestep-shape', TIMESTEP_SHAPES)),
  )
  .addOption(new Option('--prediction-type <type>', `scheduler prediction type: ${PREDICTION_TYPES.join(', ')}`).argParser(choiceOption('--prediction-type', PREDICTION_TYPES)))
  .option('--scheduler <class>', 'scheduler _class_name (default PNDMScheduler)')
  .option('--seed <n>', 'weight seed (default 0)', integerOption('--seed'))
  .option('--time-cond-proj-dim <n>', 'give the UNet an LCM timestep_cond input this wide (guidance embedding)', integerOption('--time-cond-proj-dim'))
  .addOption(
    new Option('--external-data <mode>', `weights in weights.pb beside model.onnx: ${EXTERNAL_DATA_MODES.join(', ')} (auto: above 1 GiB)`).argParser(
      choiceOption('--external-data', EXTERNAL_DATA_MODES),
    ),
  )
  .option('--only <components>', `build only these ONNX models (comma-separated: ${COMPONENT_NAMES.join(', ')})`, componentList)
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, `${PROGRAM}: `)) })
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
  .parse();

const cli = program.opts<CliOptions>();

if (cli.preset === 'tiny-ddpm') {
  try {
    const report = await buildDdpmModel(cli.out, { seed: cli.seed });
    process.stdout.write(`unet          ${report.parameters.toLocaleString('en-US').padStart(13)} parameters\n`);
    process.stdout.write(`built the tiny-ddpm model in ${report.outDir} in ${report.seconds.toFixed(2)} s\n`);
    process.exit(0);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error), error instanceof BuildOptionsError ? 2 : 1);
  }
}

const options: BuildModelOptions = {
  preset: cli.preset,
  ...(cli.safetyChecker !== undefined && { safetyChecker: cli.safetyChecker }),
  ...(cli.safetyThreshold !== undefined && { safetyThreshold: cli.safetyThreshold }),
  ...(cli.float16 !== undefined && { float16: cli.float16 }),
  ...(cli.inputIdsDtype !== undefined && { inputIdsDtype: cli.inputIdsDtype }),
  ...(cli.timestepDtype !== undefined && { timestepDtype: cli.timestepDtype }),
  ...(cli.timestepShape !== undefined && { timestepShape: cli.timestepShape }),
  ...(cli.predictionType !== undefined && { predictionType: cli.predictionType }),
  ...(cli.scheduler !== undefined && { schedulerClass: cli.scheduler }),
  ...(cli.seed !== undefined && { seed: cli.seed }),
  ...(cli.timeCondProjDim !== undefined && { unet: { timeCondProjDim: cli.timeCondProjDim } }),
  ...(cli.externalData !== undefined && { externalData: cli.externalData }),
  ...(cli.only !== undefined && { components: cli.only }),
};

try {
  const report = await buildModel(cli.out, options);
  for (const [name, c] of Object.entries(report.components)) {
    const size = c.externalData ? `${formatBytes(c.modelBytes)} + ${formatBytes(c.weightsBytes)} weights.pb` : formatBytes(c.modelBytes);
    process.stdout.write(`${name.padEnd(13)} ${c.parameters.toLocaleString('en-US').padStart(13)} parameters  ${size}  ${c.seconds.toFixed(2)} s\n`);
  }
  process.stdout.write(`built the ${report.options.preset} model in ${report.outDir} in ${report.seconds.toFixed(2)} s\n`);
} catch (error) {
  if (error instanceof BuildOptionsError) fail(error.message, 2);
  if (process.env.IMAGINE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
  fail(error instanceof Error ? error.message : String(error), 1);
}
