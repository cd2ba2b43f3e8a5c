import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { EngineError, type ProviderChoice, type ResolvedProvider } from './types.ts';

/** The CUDA provider ships outside the npm package; `npm run cuda:install` puts it here. */
export function cudaProviderPath(): string {
  const require = createRequire(import.meta.url);
  const packageRoot = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(packageRoot, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
}

export function isCudaInstalled(): boolean {
  return process.platform === 'linux' && existsSync(cudaProviderPath());
}

export interface ProviderPlan {
  /** Providers to try in order; the first whose sessions load wins. */
  candidates: { provider: ResolvedProvider; reason: string }[];
}

export function planProviders(choice: ProviderChoice): ProviderPlan {
  switch (choice) {
    case 'cpu':
      return { candidates: [{ provider: 'cpu', reason: 'cpu: requested' }] };
    case 'webgpu':
      return { candidates: [{ provider: 'webgpu', reason: 'webgpu: requested (bundled Dawn/Vulkan provider)' }] };
    case 'cuda':
      if (!isCudaInstalled()) {
        throw new EngineError(
          'provider-unavailable',
          'provider cuda: the CUDA provider is not installed; run `npm run cuda:install` (needs CUDA 12 and cuDNN 9), or use --provider cpu/webgpu',
        );
      }
      return { candidates: [{ provider: 'cuda', reason: 'cuda: requested' }] };
    case 'auto':
      return isCudaInstalled()
        ? {
            candidates: [
              { provider: 'cuda', reason: 'auto: CUDA provider installed' },
              { provider: 'cpu', reason: 'auto: CUDA provider installed but failed to start, using CPU' },
            ],
          }
        : { candidates: [{ provider: 'cpu', reason: 'auto: CUDA provider not installed (npm run cuda:install), using CPU' }] };
  }
}

/**
 * How ONNX Runtime sessions use memory and threads. The defaults trade a little speed for memory
 * that goes back to the system after each job; see README "Memory".
 */
export interface SessionSettings {
  /** Threads inside one operator (0: ONNX Runtime's choice, one per physical core). */
  intraOpThreads: number;
  /** Threads across operators, used only with `parallel` execution (0: ONNX Runtime's choice). */
  interOpThreads: number;
  /**
   * ONNX Runtime's CPU arena keeps every buffer it ever grew to and never hands it back: after a
   * 512² SD 1.5 job it held its whole peak (5.5–7.7 GB, 10 GB in the run). Off by default,
   * so memory returns to the system after each run and a loaded model costs only its weights,
   * which is what the memory budget counts. It costs about 1.2–1.3× per step on a busy CPU; the
   * engine's default is ArenaChoice `auto` (see below).
   */
  cpuMemArena: boolean;
  /**
   * Pre-plans one block for all intermediate tensors of a fixed shape. Measured on the full-size
   * UNet with the arena off, it changed neither the peak (6.6 GB either way) nor what is held
   * after a job, nor the step time on the tiny model: left at ONNX Runtime's default, on.
   */
  memPattern: boolean;
  /** `sequential` runs one operator at a time: lower peak memory; `parallel` rarely helps a UNet. */
  executionMode: 'sequential' | 'parallel';
}

/**
 * The arena for a model: `auto` keeps it for models under 1 GB of weights, where it is faster
 * (about 1.5× on the tiny model) and what it holds after a job is small, and drops it above, where
 * it would hold gigabytes between jobs.
 */
export type ArenaChoice = boolean | 'auto';
export const ARENA_AUTO_MAX_WEIGHT_BYTES = 1024 ** 3;
export const ARENA_ENV = 'IMAGINE_CPU_MEM_ARENA';

export function resolveArena(choice: ArenaChoice, weightsBytes: number): boolean {
  return choice === 'auto' ? weightsBytes < ARENA_AUTO_MAX_WEIGHT_BYTES : choice;
}

/** `on`, `off` or `auto` from $IMAGINE_CPU_MEM_ARENA; `auto` when unset. */
export function arenaFromEnv(env: NodeJS.ProcessEnv = process.env): ArenaChoice {
  const raw = env[ARENA_ENV]?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === 'auto') return 'auto';
  if (raw === 'on' || raw === '1' || raw === 'true') return true;
  if (raw === 'off' || raw === '0' || raw === 'false') return false;
  throw new EngineError('invalid-request', `${ARENA_ENV} must be on, off or auto, got "${env[ARENA_ENV]}"`);
}

export const THREAD_ENV = { intraOpThreads: 'IMAGINE_INTRA_OP_THREADS', interOpThreads: 'IMAGINE_INTER_OP_THREADS' } as const;

/** Thread counts from $IMAGINE_INTRA_OP_THREADS / $IMAGINE_INTER_OP_THREADS (whole numbers, 0 = ONNX Runtime's choice). */
export function threadsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<Pick<SessionSettings, 'intraOpThreads' | 'interOpThreads'>> {
  const settings: Partial<Pick<SessionSettings, 'intraOpThreads' | 'interOpThreads'>> = {};
  for (const [key, name] of Object.entries(THREAD_ENV) as [keyof typeof THREAD_ENV, string][]) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 1024) throw new EngineError('invalid-request', `${name} must be a whole number from 0 (ONNX Runtime's choice) to 1024, got "${raw}"`);
    settings[key] = value;
  }
  return settings;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = {
  intraOpThreads: 0,
  interOpThreads: 0,
  cpuMemArena: false,
  memPattern: true,
  executionMode: 'sequential',
};

/** Graph optimisation for a session: `all` on a raw export, `disabled` on a graph already optimised and saved. */
export type GraphOptimizationLevel = NonNullable<ort.InferenceSession.SessionOptions['graphOptimizationLevel']>;

/**
 * How a session is used. The denoiser runs once per step, back to back, so its idle threads spin
 * waiting for the next operator. A `one-shot` part (text encoders, VAE, safety checker) runs once
 * per job; left spinning after its run, its threads took the cores from the UNet's first steps
 * (on 2 cores they made the first three SDXL steps 1.5–2.5× slower), so they sleep instead.
 */
export type SessionRole = 'denoiser' | 'one-shot';

export function sessionOptions(
  provider: ResolvedProvider,
  settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
  graphOptimizationLevel: GraphOptimizationLevel = 'all',
  role: SessionRole = 'denoiser',
): ort.InferenceSession.SessionOptions {
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
    provider === 'cuda' ? [{ name: 'cuda', deviceId: 0 }] : provider === 'webgpu' ? [{ name: 'webgpu' }] : ['cpu'];
  return {
    executionProviders,
    graphOptimizationLevel,
    enableCpuMemArena: settings.cpuMemArena,
    enableMemPattern: settings.memPattern,
    executionMode: settings.executionMode,
    // ONNX Runtime reads 0 as "choose for me"; passing it explicitly keeps the option visible in logs.
    intraOpNumThreads: settings.intraOpThreads,
    interOpNumThreads: settings.interOpThreads,
    ...(role === 'one-shot' ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
  };
}

/** What the engine ran with before its memory settings: ONNX Runtime's defaults (arena and memory pattern on). */
export function legacySessionOptions(provider: ResolvedProvider): ort.InferenceSession.SessionOptions {
  const { executionProviders } = sessionOptions(provider);
  return { executionProviders, graphOptimizationLevel: 'all' };
}
