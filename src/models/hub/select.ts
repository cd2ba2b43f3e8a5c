import type { RepoFile } from './client.ts';

/** The three graphs the engine loads; without them the repo is not an ONNX diffusers pipeline. */
export const REQUIRED_ONNX = ['text_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx'] as const;

const TOP_LEVEL = new Set(['model_index.json', 'scheduler/scheduler_config.json']);
/** Folders whose direct children the engine reads (graphs, their external weights, configs, vocab). */
const ENGINE_FOLDERS = new Set(['tokenizer', 'text_encoder', 'unet', 'vae_decoder']);
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

export function selectFiles(files: readonly RepoFile[], options: { all?: boolean } = {}): RepoFile[] {
  const selected = options.all ? [...files] : files.filter((file) => isEngineFile(file.path));
  return selected.sort((a, b) => a.path.localeCompare(b.path));
}

export function missingOnnxGraphs(files: readonly RepoFile[]): string[] {
  const paths = new Set(files.map((file) => file.path));
  return REQUIRED_ONNX.filter((path) => !paths.has(path));
}

export function hasAnyOnnx(files: readonly RepoFile[]): boolean {
  return files.some((file) => file.path.endsWith('.onnx'));
}

/** What the engine cannot start without, phrased for a "missing: ..." list. */
export function missingRequired(present: ReadonlySet<string>): string[] {
  const missing: string[] = [];
  for (const path of ['model_index.json', 'scheduler/scheduler_config.json']) {
    if (!present.has(path)) missing.push(path);
  }
  const bpe = present.has('tokenizer/vocab.json') && present.has('tokenizer/merges.txt');
  if (!bpe && !present.has('tokenizer/tokenizer.json')) {
    missing.push('tokenizer/vocab.json + tokenizer/merges.txt (or tokenizer/tokenizer.json)');
  }
  for (const path of REQUIRED_ONNX) {
    if (!present.has(path)) missing.push(path);
  }
  return missing;
}
