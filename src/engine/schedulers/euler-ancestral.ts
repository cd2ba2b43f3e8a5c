/**
 * diffusers' EulerAncestralDiscreteScheduler: an Euler step down to sigma_down followed by fresh
 * noise of standard deviation sigma_up, with sigma_down^2 + sigma_up^2 = sigma_next^2. The noise comes
 * from the generator that drew the initial latents, one `randn` per step, which is what makes a seed
 * reproduce diffusers' image.
 */
import type { BaseSchedulerConfig } from './config.ts';
import { resolveConfig, TRAINING_SCHEDULE_DEFAULTS } from './config.ts';
import type { RawSchedulerConfig, Scheduler, SchedulerFactory, SchedulerStepOutput } from './scheduler.ts';
import { validateBaseConfig } from './scheduler-support.ts';
import { predictOriginalSample, SigmaSchedulerBase } from './sigmas.ts';
import type { TorchGenerator } from '../random/torch-generator.ts';

const f32 = Math.fround;

export interface EulerAncestralConfig extends BaseSchedulerConfig {
  rescale_betas_zero_snr: boolean;
}

/** `EulerAncestralDiscreteScheduler.__init__` defaults (diffusers 0.32); it has no Karras/exponential/beta options. */
export const EULER_ANCESTRAL_DEFAULTS: EulerAncestralConfig = {
  ...TRAINING_SCHEDULE_DEFAULTS,
  prediction_type: 'epsilon',
  timestep_spacing: 'linspace',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
};

export class EulerAncestralDiscreteScheduler extends SigmaSchedulerBase<EulerAncestralConfig> implements Scheduler {
  readonly name = 'euler-a' as const;

  constructor(raw: RawSchedulerConfig) {
    const config = resolveConfig(raw, EULER_ANCESTRAL_DEFAULTS);
    if (config.prediction_type === 'sample') {
      // diffusers raises NotImplementedError at the first step; failing at construction is kinder.
      throw new Error('scheduler_config.json: prediction_type "sample" is not supported by the euler-a scheduler (as in diffusers)');
    }
    validateBaseConfig('euler-a', config, { predictionTypes: ['epsilon', 'v_prediction'], allowNegativeStepsOffset: true });
    super(config);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator: TorchGenerator): SchedulerStepOutput {
    const i = this.beginStep(modelOutput, timestep, sample);
    const sigma = this.sigmas[i]!;
    const sigmaNext = this.sigmas[i + 1]!;
    // float32 scalar ops in diffusers' order: sigma_up = (to^2 * (from^2 - to^2) / from^2) ** 0.5.
    const fromSq = f32(sigma * sigma);
    const toSq = f32(sigmaNext * sigmaNext);
    const sigmaUp = f32(Math.sqrt(f32(f32(toSq * f32(fromSq - toSq)) / fromSq)));
    const sigmaDown = f32(Math.sqrt(f32(toSq - f32(sigmaUp * sigmaUp))));
    const dt = f32(sigmaDown - sigma);

    const predOriginalSample = predictOriginalSample(this.config.prediction_type, modelOutput, sample, sigma);
    // Drawn on every step, even the last where sigma_up is 0, so the generator advances as in diffusers.
    const noise = generator.randn(sample.length);
    const prevSample = new Float32Array(sample.length);
    for (let k = 0; k < sample.length; k++) {
      const derivative = f32(f32(sample[k]! - predOriginalSample[k]!) / sigma);
      const euler = f32(sample[k]! + f32(derivative * dt));
      prevSample[k] = euler + f32(noise[k]! * sigmaUp);
    }
    this.stepIndex++;
    return { prevSample, predOriginalSample };
  }
}

export const createEulerAncestralScheduler: SchedulerFactory = (raw) => new EulerAncestralDiscreteScheduler(raw);
