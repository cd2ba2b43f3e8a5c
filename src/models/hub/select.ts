import type { RepoFile } from './client.ts';

/** Graphs any Stable Diffusion ONNX export has; a repo without them is not one the engine runs. */
export const REQUIRED_ONNX = ['text_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx'] as const;

const TOP_LEVEL = new Set(['model_index.json', 'scheduler/scheduler_config.json']);
/** Folders whose direct children the engine reads (graphs, their external weights, configs, vocab), for every family. */
const ENGINE_FOLDERS = new Set([
  'tokenizer',
  'tokenizer_2',
  'text_encoder',
  'text_encoder_2',
  'unet',
  'vae_decoder',
  'vae_encoder',
  'safety_checker',
  'feature_extractor',
]);
/** Framework checkpoints that diffusers repos often carry beside (or instead of) the ONNX export. */
const NON_ONNX_WEIGHTS = /\.(safetensors|bin|ckpt|msgpack|h5|pt|pth)$/i;

export function isEngineFile(path: string): boolean {
  if (TOP_LEVEL.has(path)) return true;
  const parts = path.split('/');
  if (parts.length !== 2) return false;
  const [folder, name] = parts as [string, string];
  return ENGINE_FOLDERS.has(folder) && !NON_ONNX_WEIGHTS.test(name);
}

/**
 * Listing paths end up joined onto a local folder: refuse anything that could climb out of it
 * or that the platform would read differently.
 */
export function isSafeRepoPath(path: string): boolean {
  if (path.length === 0 || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && !/^[A-Za-z]:$/.test(part));
}

/** Engine files, model_index.json first: it says which parts the rest must include. */
export function selectFiles(files: readonly RepoFile[], options: { all?: boolean } = {}): RepoFile[] {
  const selected = options.all ? [...files] : files.filter((file) => isEngineFile(file.path));
  const rank = (path: string): number => (path === 'model_index.json' ? 0 : 1);
  return selected.sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
}

export function hasAnyOnnx(files: readonly RepoFile[]): boolean {
  return files.some((file) => file.path.endsWith('.onnx'));
}

/** One part the engine needs: satisfied when every path of any one alternative is present. */
export interface Requirement {
  /** How a "missing: …" list names it. */
  label: string;
  anyOf: string[][];
}

/** The order parts are listed in, whatever order model_index.json has them in. */
const COMPONENT_ORDER = ['scheduler', 'tokenizer', 'tokenizer_2', 'text_encoder', 'text_encoder_2', 'unet', 'vae_encoder', 'vae_decoder', 'safety_checker', 'feature_extractor'];
const SD_COMPONENTS = ['scheduler', 'tokenizer', 'text_encoder', 'unet', 'vae_decoder'];
const SDXL_COMPONENTS = ['scheduler', 'tokenizer', 'tokenizer_2', 'text_encoder', 'text_encoder_2', 'unet', 'vae_decoder'];
const UNCONDITIONAL_COMPONENTS = ['scheduler', 'unet'];

function requirementOf(component: string): Requirement {
  if (component === 'scheduler') return { label: 'scheduler/scheduler_config.json', anyOf: [['scheduler/scheduler_config.json']] };
  if (component.startsWith('tokenizer')) {
    return {
      label: `${component}/vocab.json + ${component}/merges.txt (or ${component}/tokenizer.json)`,
      anyOf: [[`${component}/vocab.json`, `${component}/merges.txt`], [`${component}/tokenizer.json`]],
    };
  }
  if (component === 'feature_extractor') return { label: 'feature_extractor/preprocessor_config.json', anyOf: [['feature_extractor/preprocessor_config.json']] };
  // PyTorch-style indexes name the whole autoencoder; the engine reads its ONNX decoder.
  const folder = component === 'vae' ? 'vae_decoder' : component;
  return { label: `${folder}/model.onnx`, anyOf: [[`${folder}/model.onnx`]] };
}

/**
 * The parts a folder must have, from its model_index.json: every component it lists with a class
 * (diffusers writes `[null, null]` for a part left out, e.g. a removed safety checker); an index
 * listing none gets its family's usual parts.
 */
export function requirementsFor(index: unknown): Requirement[] {
  const record = typeof index === 'object' && index !== null && !Array.isArray(index) ? (index as Record<string, unknown>) : {};
  const listed = Object.entries(record)
    .filter(([key, value]) => !key.startsWith('_') && Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string'))
    .map(([key]) => key);
  const className = typeof record._class_name === 'string' ? record._class_name : '';
  const components =
    listed.length > 0
      ? listed
      : /^DD[IP]MPipeline$/.test(className)
        ? UNCONDITIONAL_COMPONENTS
        : /XL/.test(className)
          ? SDXL_COMPONENTS
          : SD_COMPONENTS;
  const rank = (name: string): number => (COMPONENT_ORDER.includes(name) ? COMPONENT_ORDER.indexOf(name) : COMPONENT_ORDER.length);
  const sorted = [...components].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return [{ label: 'model_index.json', anyOf: [['model_index.json']] }, ...sorted.map(requirementOf)];
}

/** What the engine cannot start without, phrased for a "missing: ..." list. Default: SD 1.x/2.x's parts. */
export function missingRequired(present: ReadonlySet<string>, requirements: readonly Requirement[] = requirementsFor(undefined)): string[] {
  return requirements.filter((req) => !req.anyOf.some((paths) => paths.every((path) => present.has(path)))).map((req) => req.label);
}

/** The required graphs a listing lacks (SD's three unless model_index.json says otherwise). */
export function missingOnnxGraphs(files: readonly RepoFile[], requirements: readonly Requirement[] = requirementsFor(undefined)): string[] {
  const paths = new Set(files.map((file) => file.path));
  return missingRequired(paths, requirements.filter((req) => req.label.endsWith('.onnx')));
}
