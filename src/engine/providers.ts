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

export function sessionOptions(provider: ResolvedProvider): ort.InferenceSession.SessionOptions {
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
    provider === 'cuda' ? [{ name: 'cuda', deviceId: 0 }] : provider === 'webgpu' ? [{ name: 'webgpu' }] : ['cpu'];
  return { executionProviders, graphOptimizationLevel: 'all' };
}
