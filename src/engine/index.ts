/**
 * The diffusion engine as a library: Stable Diffusion on onnxruntime-node, giving diffusers'
 * images for the same model, prompt, seed and scheduler. It knows nothing of Discord.
 *
 *   const engine = await createEngine({ modelDir: 'models/tiny-sd', provider: 'auto' });
 *   const result = await engine.generate({ prompt: 'a lighthouse at dusk', steps: 25 }, { onProgress });
 *   await writeFile('out.png', result.images[0].png);
 */
export { createEngine, type CatalogEngine, type EngineOptions } from './engine.ts';
export type { CatalogModel } from './catalog/model-catalog.ts';
export { describeModelFolder, findModelFolders, type CatalogEntry } from './catalog/model-entry.ts';
export { MEMORY_BUDGET_ENV, resolveMemoryBudget } from './memory/budget.ts';
export { largestFittingSize, peakBytes, type JobShape, type MemoryProfile } from './memory/estimate.ts';
export { ARENA_ENV, DEFAULT_SESSION_SETTINGS, type ArenaChoice, type SessionSettings } from './providers.ts';
export { EnginePool } from './engine-pool.ts';
export type { EngineBackend, BackendJob, LoadedBackendInfo } from './backends/backend.ts';
export { InThreadBackend } from './backends/in-thread.ts';
export { WorkerThreadBackend } from './backends/worker-thread.ts';
export type { EngineLogger } from './logger.ts';
export { formatParameters, parseParameters, type ParsedParameters } from './output/parameters.ts';
export { encodePng, readTextChunks } from './output/png.ts';
export { isSchedulerName, randomSeed, resolveRequest } from './request.ts';
export { SCHEDULER_NAMES } from './schedulers/scheduler.ts';
export { loadClipTokenizer, type PromptTokenizer } from './tokenizer/clip-tokenizer.ts';
export {
  DEFAULTS,
  EngineError,
  LIMITS,
  type Engine,
  type EngineInfo,
  type ErrorCode,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
  type GeneratedImage,
  type GenerationProgress,
  type ModelCapabilities,
  type ModelFamily,
  type ModelInfo,
  type ProviderChoice,
  type ResolvedProvider,
  type ResolvedRequest,
  type RgbImage,
  type SchedulerName,
} from './types.ts';
