import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { generateImages, type GenerationOutput } from '../pipeline/generate.ts';
import { loadModel, type LoadedModel } from '../pipeline/loaded-model.ts';
import type { BackendJob, BackendOptions, EngineBackend, LoadedBackendInfo } from './backend.ts';

/**
 * Runs the sessions on the calling thread. Simple and dependency-free, but each UNet step blocks
 * the event loop for its whole duration: for scripts and benchmarks, not for the bot.
 */
export class InThreadBackend implements EngineBackend {
  private model: LoadedModel | undefined;

  constructor(private readonly options: BackendOptions) {}

  async load(): Promise<LoadedBackendInfo> {
    this.model = await loadModel(this.options.modelDir, this.options.provider, this.options.logger, this.options.session);
    return { model: this.model.info, provider: this.model.provider, providerReason: this.model.providerReason };
  }

  async run(job: BackendJob): Promise<GenerationOutput> {
    if (!this.model) throw new Error('InThreadBackend.run before load');
    const hooks = {
      isCancelled: () => job.signal?.aborted === true,
      onProgress: job.onProgress,
      previewEvery: job.previewEvery,
      // Lets timers and abort events fire between steps.
      betweenSteps: () => yieldToEventLoop(),
    };
    return generateImages(this.model, job.request, hooks, { initImage: job.initImage, safetyCheck: job.safetyCheck });
  }

  async close(): Promise<void> {
    await this.model?.release();
    this.model = undefined;
  }
}
