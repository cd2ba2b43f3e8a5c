/**
 * diffusers' `DPMSolverMultistepScheduler` (Lu et al. 2022, DPM-Solver / DPM-Solver++): exponential
 * integrators in half-log-SNR lambda that reuse previous model outputs for 2nd/3rd order accuracy.
 * It backs two user-facing names: 'dpm++2m' (the model config as is) and 'dpm++2m-karras'
 * (Karras sigma spacing forced on).
 */
import type { TorchGenerator } from '../random/torch-generator.ts';
import { TRAINING_SCHEDULE_DEFAULTS } from './config.ts';
import { MultistepScheduler } from './multistep.ts';
import type { MultistepConfig } from './multistep.ts';
import type { RawSchedulerConfig, Scheduler, SchedulerName, SchedulerStepOutput } from './scheduler.ts';
import { readSchedulerConfig, rejectOption, requireOneOf } from './scheduler-support.ts';
import { lambdaT } from './sigma-math.ts';

const f = Math.fround;

export type DPMAlgorithmType = 'dpmsolver++' | 'dpmsolver' | 'sde-dpmsolver++' | 'sde-dpmsolver';

export interface DPMSolverMultistepConfig extends MultistepConfig {
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  sample_max_value: number;
  algorithm_type: DPMAlgorithmType;
  solver_type: 'midpoint' | 'heun';
  lower_order_final: boolean;
  euler_at_final: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  use_lu_lambdas: boolean;
  use_flow_sigmas: boolean;
  flow_shift: number;
  lambda_min_clipped: number;
  variance_type: string | null;
}

/** `DPMSolverMultistepScheduler.__init__` defaults (diffusers 0.32). */
export const DPM_SOLVER_MULTISTEP_DEFAULTS: Readonly<DPMSolverMultistepConfig> = {
  ...TRAINING_SCHEDULE_DEFAULTS,
  solver_order: 2,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  sample_max_value: 1.0,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: true,
  euler_at_final: false,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  use_lu_lambdas: false,
  use_flow_sigmas: false,
  flow_shift: 1.0,
  final_sigmas_type: 'zero',
  lambda_min_clipped: Number.NEGATIVE_INFINITY,
  variance_type: null,
  timestep_spacing: 'linspace',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
};

export class DPMSolverMultistepScheduler extends MultistepScheduler<DPMSolverMultistepConfig> implements Scheduler {
  readonly name: SchedulerName;
  /** float32 lambda_t per training timestep, for `lambda_min_clipped`. */
  private readonly trainLambdas: Float64Array;

  constructor(raw: RawSchedulerConfig, name: SchedulerName = 'dpm++2m') {
    const cls = 'DPMSolverMultistepScheduler';
    const config = readSchedulerConfig(cls, raw, DPM_SOLVER_MULTISTEP_DEFAULTS, { predictionTypes: ['epsilon', 'sample', 'v_prediction'] });
    // diffusers maps the DEIS / UniPC names onto its own so configs can switch between them.
    if ((config.algorithm_type as string) === 'deis') config.algorithm_type = 'dpmsolver++';
    requireOneOf(cls, 'algorithm_type', config.algorithm_type, ['dpmsolver++', 'dpmsolver', 'sde-dpmsolver++', 'sde-dpmsolver']);
    if (['logrho', 'bh1', 'bh2'].includes(config.solver_type)) config.solver_type = 'midpoint';
    requireOneOf(cls, 'solver_type', config.solver_type, ['midpoint', 'heun']);
    requireOneOf(cls, 'final_sigmas_type', config.final_sigmas_type, ['zero', 'sigma_min']);
    if (!Number.isInteger(config.solver_order) || config.solver_order < 1 || config.solver_order > 3) {
      throw new Error(`scheduler_config.json: ${cls} supports solver_order 1, 2 or 3, got ${config.solver_order}`);
    }
    if (config.solver_order === 3 && config.algorithm_type.startsWith('sde-')) {
      rejectOption(cls, 'solver_order', 3, `with algorithm_type "${config.algorithm_type}" has no third-order update in diffusers 0.32`);
    }
    if (!config.algorithm_type.endsWith('dpmsolver++') && config.final_sigmas_type === 'zero') {
      throw new Error(
        `scheduler_config.json: ${cls}: final_sigmas_type "zero" is not supported for algorithm_type "${config.algorithm_type}"; use "sigma_min"`,
      );
    }
    for (const key of ['use_exponential_sigmas', 'use_beta_sigmas', 'use_lu_lambdas', 'use_flow_sigmas'] as const) {
      if (config[key]) rejectOption(cls, key, true);
    }
    if (config.variance_type === 'learned' || config.variance_type === 'learned_range') {
      rejectOption(cls, 'variance_type', config.variance_type, 'needs a model that predicts its variance; not implemented');
    }
    super(cls, config);
    this.name = name;
    this.trainLambdas = this.alphasCumprod.map((a) => lambdaT(f(Math.sqrt(a)), f(Math.sqrt(f(1 - a)))));
  }

  /** lambda_min_clipped trims the noisiest timesteps whose lambda is too low (cosine schedules). */
  protected override lastTimestep(): number {
    let clipped = 0;
    for (let i = this.trainLambdas.length - 1; i >= 0 && this.trainLambdas[i]! < this.config.lambda_min_clipped; i--) clipped++;
    return this.config.num_train_timesteps - clipped;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator: TorchGenerator): SchedulerStepOutput {
    const index = this.beginStep(modelOutput, timestep, sample);
    const count = this.schedule.length;
    const { solver_order: order, lower_order_final: lowerOrderFinalCfg } = this.config;

    // Few-step schedules are unstable at 2nd/3rd order near t = 0, and a zero final sigma has no
    // lambda, so the last step falls back to first order (DDIM-like) in those cases.
    const lowerOrderFinal =
      index === count - 1 &&
      (this.config.euler_at_final || (lowerOrderFinalCfg && count < 15) || this.config.final_sigmas_type === 'zero');
    const lowerOrderSecond = index === count - 2 && lowerOrderFinalCfg && count < 15;

    const converted = this.convertModelOutput(modelOutput, sample, index);
    this.modelOutputs.shift();
    this.modelOutputs.push(converted);

    const isSde = this.config.algorithm_type.startsWith('sde-');
    const noise = isSde ? generator.randn(sample.length) : null;

    let prevSample: Float32Array;
    if (order === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      prevSample = this.firstOrderUpdate(converted, sample, noise, index);
    } else if (order === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
      prevSample = this.secondOrderUpdate(sample, noise, index);
    } else {
      prevSample = this.thirdOrderUpdate(sample, index);
    }
    if (this.lowerOrderNums < order) this.lowerOrderNums++;
    this.stepIndex = index + 1;
    return { prevSample, predOriginalSample: this.previewX0(converted, sample, index) };
  }

  /** DPM-Solver++ integrates the data prediction x0, DPM-Solver the noise prediction ε. */
  protected predictsData(): boolean {
    return this.config.algorithm_type.endsWith('dpmsolver++');
  }

  /** `dpm_solver_first_order_update` (equivalent to DDIM for DPM-Solver++). */
  private firstOrderUpdate(m0: Float32Array, sample: Float32Array, noise: Float32Array | null, index: number): Float32Array {
    const t = this.point(index + 1);
    const s = this.point(index);
    const h = f(t.lambda - s.lambda);
    const n = sample.length;
    const out = new Float32Array(n);
    switch (this.config.algorithm_type) {
      case 'dpmsolver++': {
        const a = f(t.sigma / s.sigma);
        const b = f(t.alpha * f(f(Math.exp(-h)) - 1));
        for (let i = 0; i < n; i++) out[i] = f(a * sample[i]!) - f(b * m0[i]!);
        break;
      }
      case 'dpmsolver': {
        const a = f(t.alpha / s.alpha);
        const b = f(t.sigma * f(f(Math.exp(h)) - 1));
        for (let i = 0; i < n; i++) out[i] = f(a * sample[i]!) - f(b * m0[i]!);
        break;
      }
      case 'sde-dpmsolver++': {
        const a = f(f(t.sigma / s.sigma) * f(Math.exp(-h)));
        const b = f(t.alpha * f(1 - f(Math.exp(f(-2 * h)))));
        const c = f(t.sigma * f(Math.sqrt(f(1 - f(Math.exp(f(-2 * h)))))));
        for (let i = 0; i < n; i++) out[i] = f(f(a * sample[i]!) + f(b * m0[i]!)) + f(c * noise![i]!);
        break;
      }
      case 'sde-dpmsolver': {
        const a = f(t.alpha / s.alpha);
        const b = f(2 * f(t.sigma * f(f(Math.exp(h)) - 1)));
        const c = f(t.sigma * f(Math.sqrt(f(f(Math.exp(f(2 * h))) - 1))));
        for (let i = 0; i < n; i++) out[i] = f(f(a * sample[i]!) - f(b * m0[i]!)) + f(c * noise![i]!);
        break;
      }
    }
    return out;
  }

  /** `multistep_dpm_solver_second_order_update`: D1 is the finite difference of the last two outputs. */
  private secondOrderUpdate(sample: Float32Array, noise: Float32Array | null, index: number): Float32Array {
    const t = this.point(index + 1);
    const s0 = this.point(index);
    const s1 = this.point(index - 1);
    const m0 = this.modelOutputs[this.modelOutputs.length - 1]!;
    const m1 = this.modelOutputs[this.modelOutputs.length - 2]!;
    const h = f(t.lambda - s0.lambda);
    const h0 = f(s0.lambda - s1.lambda);
    const r0 = f(h0 / h);
    const invR0 = f(1 / r0);
    const midpoint = this.config.solver_type === 'midpoint';
    const expNegH = f(Math.exp(-h));
    const expH = f(Math.exp(h));

    // x_t = a * x + b * D0 + c * D1 (+ d * noise) for each algorithm / solver type.
    let a: number;
    let b: number;
    let c: number;
    let d = 0;
    switch (this.config.algorithm_type) {
      case 'dpmsolver++': {
        a = f(t.sigma / s0.sigma);
        const phi = f(t.alpha * f(expNegH - 1));
        b = -phi;
        c = midpoint ? -f(0.5 * phi) : f(t.alpha * f(f(f(expNegH - 1) / h) + 1));
        break;
      }
      case 'dpmsolver': {
        a = f(t.alpha / s0.alpha);
        const phi = f(t.sigma * f(expH - 1));
        b = -phi;
        c = midpoint ? -f(0.5 * phi) : -f(t.sigma * f(f(f(expH - 1) / h) - 1));
        break;
      }
      case 'sde-dpmsolver++': {
        const exp2 = f(Math.exp(f(-2 * h)));
        a = f(f(t.sigma / s0.sigma) * expNegH);
        b = f(t.alpha * f(1 - exp2));
        c = midpoint ? f(0.5 * b) : f(t.alpha * f(f(f(1 - exp2) / f(-2 * h)) + 1));
        d = f(t.sigma * f(Math.sqrt(f(1 - exp2))));
        break;
      }
      case 'sde-dpmsolver': {
        a = f(t.alpha / s0.alpha);
        const phi = f(t.sigma * f(expH - 1));
        b = -f(2 * phi);
        c = midpoint ? -phi : -f(2 * f(t.sigma * f(f(f(expH - 1) / h) - 1)));
        d = f(t.sigma * f(Math.sqrt(f(f(Math.exp(f(2 * h))) - 1))));
        break;
      }
    }
    const n = sample.length;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const d1 = f(invR0 * f(m0[i]! - m1[i]!));
      let x = f(f(a * sample[i]!) + f(b * m0[i]!)) + f(c * d1);
      if (noise !== null) x = f(x) + f(d * noise[i]!);
      out[i] = x;
    }
    return out;
  }

  /** `multistep_dpm_solver_third_order_update` (noise-free even for the SDE variants, as in diffusers). */
  private thirdOrderUpdate(sample: Float32Array, index: number): Float32Array {
    const t = this.point(index + 1);
    const s0 = this.point(index);
    const s1 = this.point(index - 1);
    const s2 = this.point(index - 2);
    const outputs = this.modelOutputs;
    const m0 = outputs[outputs.length - 1]!;
    const m1 = outputs[outputs.length - 2]!;
    const m2 = outputs[outputs.length - 3]!;
    const h = f(t.lambda - s0.lambda);
    const r0 = f(f(s0.lambda - s1.lambda) / h);
    const r1 = f(f(s1.lambda - s2.lambda) / h);
    const invR0 = f(1 / r0);
    const invR1 = f(1 / r1);
    const rRatio = f(r0 / f(r0 + r1));
    const invRSum = f(1 / f(r0 + r1));

    let a: number;
    let b: number;
    let c: number;
    let e: number;
    if (this.predictsData()) {
      const expNegH = f(Math.exp(-h));
      a = f(t.sigma / s0.sigma);
      b = -f(t.alpha * f(expNegH - 1));
      c = f(t.alpha * f(f(f(expNegH - 1) / h) + 1));
      e = -f(t.alpha * f(f(f(f(expNegH - 1) + h) / f(h * h)) - 0.5));
    } else {
      const expH = f(Math.exp(h));
      a = f(t.alpha / s0.alpha);
      b = -f(t.sigma * f(expH - 1));
      c = -f(t.sigma * f(f(f(expH - 1) / h) - 1));
      e = -f(t.sigma * f(f(f(f(expH - 1) - h) / f(h * h)) - 0.5));
    }
    const n = sample.length;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const d10 = f(invR0 * f(m0[i]! - m1[i]!));
      const d11 = f(invR1 * f(m1[i]! - m2[i]!));
      const diff = f(d10 - d11);
      const d1 = f(d10 + f(rRatio * diff));
      const d2 = f(invRSum * diff);
      out[i] = f(f(f(a * sample[i]!) + f(b * m0[i]!)) + f(c * d1)) + f(e * d2);
    }
    return out;
  }
}

/** 'dpm++2m': DPM-Solver++(2M) with the model config's own sigma spacing. */
export const createDPMSolverMultistepScheduler = (raw: RawSchedulerConfig): Scheduler =>
  new DPMSolverMultistepScheduler(raw, 'dpm++2m');

/** 'dpm++2m-karras': the same solver with Karras sigmas forced on. */
export const createDPMSolverMultistepKarrasScheduler = (raw: RawSchedulerConfig): Scheduler =>
  new DPMSolverMultistepScheduler({ ...raw, use_karras_sigmas: true }, 'dpm++2m-karras');
