import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ModelFileError, readJsonFile } from '../model/files.ts';
import { memoryProfileOf, type MemoryProfile, type UnetShape } from '../memory/estimate.ts';
import { detectFamily, type ModelFamily } from '../model/family.ts';
import { EngineError, type ModelCapabilities } from '../types.ts';

/** What the catalog knows of a model folder without opening any ONNX session. */
export interface CatalogEntry {
  name: string;
  path: string;
  family: ModelFamily;
  /** model_index.json's `_class_name`, as written (undefined when it names none). */
  pipelineClass: string | undefined;
  /** unet/config.json `sample_size` × 8; undefined when the folder does not say. */
  nativeSize: number | undefined;
  capabilities: ModelCapabilities;
  memory: MemoryProfile;
}

/** Only the memory-relevant fields of unet/config.json (diffusers' UNet2DConditionModel / UNet2DModel). */
interface UnetConfig {
  sample_size?: unknown;
  block_out_channels?: unknown;
  attention_head_dim?: unknown;
  down_block_types?: unknown;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((info) => info.isFile(), () => false);
}

async function optionalJson<T>(path: string): Promise<T | undefined> {
  return (await isFile(path)) ? readJsonFile<T>(path) : undefined;
}

function numberList(value: unknown): number[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'number') ? (value as number[]) : undefined;
}

function firstNumber(value: unknown): number | undefined {
  const n = Array.isArray(value) ? value[0] : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Bytes of every ONNX graph and weights file a session of this folder would map (cached optimised graphs excluded). */
async function weightBytes(dir: string): Promise<number> {
  let total = 0;
  const parts = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const part of parts) {
    if (!part.isDirectory()) continue;
    const files = await readdir(join(dir, part.name), { withFileTypes: true }).catch(() => []);
    for (const file of files) {
      if (!file.isFile() || file.name.includes('.optimized')) continue;
      if (/\.(onnx|pb|onnx_data|data)$/.test(file.name)) total += (await stat(join(dir, part.name, file.name))).size;
    }
  }
  return total;
}

function unetShape(config: UnetConfig | undefined): UnetShape {
  const channels = numberList(config?.block_out_channels);
  const heads = firstNumber(config?.attention_head_dim);
  const downTypes = Array.isArray(config?.down_block_types) ? (config.down_block_types as unknown[]) : undefined;
  return {
    firstLevelChannels: channels?.[0],
    attentionHeads: heads,
    attentionAtFullResolution: downTypes === undefined ? undefined : typeof downTypes[0] === 'string' && /Attn/.test(downTypes[0]),
  };
}

/** Reads a folder's family, native size, capabilities and memory profile from its JSON files and file sizes alone. */
export async function describeModelFolder(dirInput: string): Promise<CatalogEntry> {
  const dir = resolve(dirInput);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new EngineError('model-invalid', `${dir}: model folder not found`);
  const indexPath = join(dir, 'model_index.json');
  const index = await readJsonFile<unknown>(indexPath);
  if (typeof index !== 'object' || index === null || Array.isArray(index)) {
    throw new ModelFileError(indexPath, 'must be a JSON object (diffusers model_index.json)');
  }
  const className = (index as { _class_name?: unknown })._class_name;
  const pipelineClass = typeof className === 'string' ? className : undefined;
  const family = detectFamily(indexPath, index as Record<string, unknown>, {
    textEncoder: await isFile(join(dir, 'text_encoder', 'model.onnx')),
    textEncoder2: await isFile(join(dir, 'text_encoder_2', 'model.onnx')),
  });

  const unetConfig = await optionalJson<UnetConfig>(join(dir, 'unet', 'config.json'));
  const sampleSize = firstNumber(unetConfig?.sample_size);
  // Unconditional UNets work in pixel space: their sample size is the image size.
  const nativeSize = sampleSize === undefined ? undefined : family === 'unconditional' ? sampleSize : sampleSize * 8;

  const capabilities: ModelCapabilities = {
    textToImage: family !== 'unconditional',
    img2img: family !== 'unconditional' && (await isFile(join(dir, 'vae_encoder', 'model.onnx'))),
    safetyChecker: await isFile(join(dir, 'safety_checker', 'model.onnx')),
    unconditional: family === 'unconditional',
  };

  const memory = memoryProfileOf({ weightsBytes: await weightBytes(dir), unet: unetShape(unetConfig), latentSpace: family !== 'unconditional' });
  return { name: basename(dir), path: dir, family, pipelineClass, nativeSize, capabilities, memory };
}

/** Every model folder under `root`: the root itself if it holds a model_index.json, else each subfolder that does. */
export async function findModelFolders(root: string): Promise<string[]> {
  const dir = resolve(root);
  if (await isFile(join(dir, 'model_index.json'))) return [dir];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new EngineError('model-invalid', `${dir}: models folder not found`, { cause: error });
  }
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory() && (await isFile(join(dir, entry.name, 'model_index.json')))) found.push(join(dir, entry.name));
  }
  return found;
}
