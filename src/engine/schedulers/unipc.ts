/**
 * diffusers' `UniPCMultistepScheduler` (Zhao et al. 2023): a multistep predictor (UniP) plus a
 * corrector (UniC) that reuses the model evaluation of the next step to refine the previous
 * prediction, so it gains an order of accuracy at no extra model calls.
 */
import type { TorchGenerator } from '../random/torch-generator.ts';
import { TRAINING_SCHEDULE_DEFAULTS } from './config.ts';
import { MultistepScheduler } from './multistep.ts';
import type { MultistepConfig } from './multistep.ts';
import type { RawSchedulerConfig, Scheduler, SchedulerStepOutput } from './scheduler.ts';
import { readSchedulerConfig, rejectOption, requireOneOf } from './scheduler-support.ts';

const f = Math.fround;

export interface UniPCConfig extends MultistepConfig {
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  sample_max_value: number;
  predict_x0: boolean;
  solver_type: 'bh1' | 'bh2';
  lower_order_final: boolean;
  disable_corrector: readonly number[];
  solver_p: unknown;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  use_flow_sigmas: boolean;
  flow_shift: number;
}

/** `UniPCMultistepScheduler.__init__` defaults (diffusers 0.32). */
export const UNIPC_DEFAULTS: Readonly<UniPCConfig> = {
  ...TRAINING_SCHEDULE_DEFAULTS,
  solver_order: 2,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  sample_max_value: 1.0,
  predict_x0: true,
  solver_type: 'bh2',
  lower_order_final: true,
  disable_corrector: [],
  solver_p: null,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  use_flow_sigmas: false,
  flow_shift: 1.0,
  timestep_spacing: 'linspace',
  steps_offset: 0,
  final_sigmas_type: 'zero',
  rescale_betas_zero_snr: false,
};

export class UniPCMultistepScheduler extends MultistepScheduler<UniPCConfig> implements Scheduler {
  readonly name = 'unipc';

  // Per-generation state, reset by setTimesteps.
  private lastSample: Float32Array | null = null;
  /** Order the predictor used last step; the corrector reuses it. */
  private thisOrder = 0;

  constructor(raw: RawSchedulerConfig) {
    const cls = 'UniPCMultistepScheduler';
    const config = readSchedulerConfig(cls, raw, UNIPC_DEFAULTS, { predictionTypes: ['epsilon', 'sample', 'v_prediction'] });
    // diffusers maps DPM-Solver's solver types onto bh2 so configs can switch between them.
    if (['midpoint', 'heun', 'logrho'].includes(config.solver_type)) config.solver_type = 'bh2';
    requireOneOf(cls, 'solver_type', config.solver_type, ['bh1', 'bh2']);
    requireOneOf(cls, 'final_sigmas_type', config.final_sigmas_type, ['zero', 'sigma_min']);
    if (!Number.isInteger(config.solver_order) || config.solver_order < 1) {
      throw new Error(`scheduler_config.json: ${cls} solver_order must be a positive integer, got ${config.solver_order}`);
    }
    if (!Array.isArray(config.disable_corrector) || !config.disable_corrector.every((i) => Number.isInteger(i))) {
      throw new Error(`scheduler_config.json: ${cls} disable_corrector must be a list of step indices`);
    }
    if (config.solver_p !== null) rejectOption(cls, 'solver_p', '<scheduler>', '(an external predictor) is not implemented');
    for (const key of ['use_exponential_sigmas', 'use_beta_sigmas', 'use_flow_sigmas'] as const) {
      if (config[key]) rejectOption(cls, key, true);
    }
    super(cls, config);
  }

  override setTimesteps(numInferenceSteps: number): void {
    super.setTimesteps(numInferenceSteps);
    this.lastSample = null;
    this.thisOrder = 0;
  }

  /**
   * diffusers' UniPC ends a Karras schedule on its own last sigma rather than the smallest training
   * sigma: the same float32 value, except for one step, whose only Karras sigma is sigma_max.
   */
  protected override finalSigma(sigmas: readonly number[]): number {
    if (this.config.final_sigmas_type === 'sigma_min' && this.config.use_karras_sigmas) return sigmas[sigmas.length - 1]!;
    return super.finalSigma(sigmas);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _generator: TorchGenerator): SchedulerStepOutput {
    const index = this.beginStep(modelOutput, timestep, sample);
    const order = this.config.solver_order;

    const useCorrector = index > 0 && !this.config.disable_corrector.includes(index - 1) && this.lastSample !== null;
    const converted = this.convertModelOutput(modelOutput, sample, index);
    // The corrector refines x_t (this step's input) with the model output just computed at it;
    // the predictor then starts from the corrected sample.
    const current = useCorrector ? this.corrector(converted, this.lastSample!, this.thisOrder, index) : sample;

    this.modelOutputs.shift();
    this.modelOutputs.push(converted);

    // Fewer history terms near the end (lower_order_final) and while the history fills up.
    const wanted = this.config.lower_order_final ? Math.min(order, this.schedule.length - index) : order;
    this.thisOrder = Math.min(wanted, this.lowerOrderNums + 1);
    // Copy: the caller may reuse its input buffer, and the next corrector needs this exact sample.
    this.lastSample = current === sample ? sample.slice() : current;
    const prevSample = this.predictor(current, this.thisOrder, index);
    if (this.lowerOrderNums < order) this.lowerOrderNums++;
    this.stepIndex = index + 1;

    return { prevSample, predOriginalSample: this.previewX0(converted, sample, index) };
  }

  /** `predict_x0` (the default): integrate the data prediction x0 rather than ε. */
  protected predictsData(): boolean {
    return this.config.predict_x0;
  }

  /**
   * The right-hand side shared by UniP and UniC: b_k = h·phi_k(h)·k! / B(h) for k = 1..order, where
   * phi_k are the exponential-integrator functions in hh = -h (predicting x0) or h, and B(h) is hh
   * (bh1) or e^hh - 1 (bh2).
   */
  private coefficients(h: number, order: number): { hPhi1: number; bH: number; b: number[] } {
    const hh = this.config.predict_x0 ? -h : h;
    const hPhi1 = f(Math.expm1(hh));
    let hPhiK = f(f(hPhi1 / hh) - 1);
    const bH = this.config.solver_type === 'bh1' ? hh : f(Math.expm1(hh));
    const b: number[] = [];
    let factorial = 1;
    for (let i = 1; i <= order; i++) {
      b.push(f(f(hPhiK * factorial) / bH));
      factorial *= i + 1;
      hPhiK = f(f(hPhiK / hh) - f(1 / factorial));
    }
    return { hPhi1, bH, b };
  }

  /** `multistep_uni_p_bh_update`: predicts x at the next sigma from the converted history. */
  private predictor(x: Float32Array, order: number, index: number): Float32Array {
    const outputs = this.modelOutputs;
    const m0 = outputs[outputs.length - 1]!;
    const { alpha: alphaNext, sigma: sigmaNext, lambda: lambdaNext } = this.point(index + 1);
    const { alpha: alphaS0, sigma: sigmaS0, lambda: lambdaS0 } = this.point(index);
    const h = f(lambdaNext - lambdaS0);

    const rks: number[] = [];
    const history: Float32Array[] = [];
    for (let i = 1; i < order; i++) {
      rks.push(f(f(this.point(index - i).lambda - lambdaS0) / h));
      history.push(outputs[outputs.length - 1 - i]!);
    }
    rks.push(1);
    const { hPhi1, bH, b } = this.coefficients(h, order);
    // diffusers hard-codes rho = 0.5 at order 2 instead of solving the 1x1 system.
    const rhos = order === 2 ? [0.5] : order > 2 ? solveVandermonde(rks.slice(0, -1), b.slice(0, -1)) : [];
    const res = weightedDifferences(history, m0, rks, rhos);

    const predictX0 = this.config.predict_x0;
    const a = predictX0 ? f(sigmaNext / sigmaS0) : f(alphaNext / alphaS0);
    const c0 = predictX0 ? f(alphaNext * hPhi1) : f(sigmaNext * hPhi1);
    const cRes = predictX0 ? f(alphaNext * bH) : f(sigmaNext * bH);
    const n = x.length;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const base = f(f(a * x[i]!) - f(c0 * m0[i]!));
      out[i] = res === null ? base : base - f(cRes * res[i]!);
    }
    return out;
  }

  /**
   * `multistep_uni_c_bh_update`: corrects x_t, predicted last step from `lastSample`, using the model
   * output `modelT` now evaluated at x_t. The history still ends with the previous step's output.
   */
  private corrector(modelT: Float32Array, lastSample: Float32Array, order: number, index: number): Float32Array {
    const outputs = this.modelOutputs;
    const m0 = outputs[outputs.length - 1]!;
    const { alpha: alphaT, sigma: sigmaT, lambda: lambdaT } = this.point(index);
    const { alpha: alphaS0, sigma: sigmaS0, lambda: lambdaS0 } = this.point(index - 1);
    const h = f(lambdaT - lambdaS0);

    const rks: number[] = [];
    const history: Float32Array[] = [];
    for (let i = 1; i < order; i++) {
      rks.push(f(f(this.point(index - (i + 1)).lambda - lambdaS0) / h));
      history.push(outputs[outputs.length - 1 - i]!);
    }
    rks.push(1);
    const { hPhi1, bH, b } = this.coefficients(h, order);
    // Order 1 uses the trapezoidal 0.5 rather than solving; otherwise rhos solve R·rho = b with the
    // full system (the last unknown weights the fresh output's difference D1_t).
    const rhos = order === 1 ? [0.5] : solveVandermonde(rks, b);

    const predictX0 = this.config.predict_x0;
    const a = predictX0 ? f(sigmaT / sigmaS0) : f(alphaT / alphaS0);
    const c0 = predictX0 ? f(alphaT * hPhi1) : f(sigmaT * hPhi1);
    const cRes = predictX0 ? f(alphaT * bH) : f(sigmaT * bH);
    const rhoT = rhos[rhos.length - 1]!;
    const res = weightedDifferences(history, m0, rks, rhos);
    const n = lastSample.length;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const base = f(f(a * lastSample[i]!) - f(c0 * m0[i]!));
      const fresh = f(rhoT * f(modelT[i]! - m0[i]!));
      out[i] = base - f(cRes * (res === null ? fresh : f(res[i]! + fresh)));
    }
    return out;
  }
}

/**
 * The einsum of UniPC's history terms: sum over k of rho_k * (m_k - m0) / r_k, in float32, or null
 * when there is no history (first order). The single-term case, the common one, gets its own loop.
 */
function weightedDifferences(
  history: readonly Float32Array[],
  m0: Float32Array,
  rks: readonly number[],
  rhos: readonly number[],
): Float32Array | null {
  if (history.length === 0) return null;
  const n = m0.length;
  const out = new Float32Array(n);
  if (history.length === 1) {
    const m1 = history[0]!;
    const rk = rks[0]!;
    const rho = rhos[0]!;
    for (let i = 0; i < n; i++) out[i] = rho * f(f(m1[i]! - m0[i]!) / rk);
    return out;
  }
  for (let k = 0; k < history.length; k++) {
    const mk = history[k]!;
    const rk = rks[k]!;
    const rho = rhos[k]!;
    for (let i = 0; i < n; i++) out[i] = out[i]! + f(rho * f(f(mk[i]! - m0[i]!) / rk));
  }
  return out;
}

/**
 * Solves R·x = b where row p of R is rks^p (p = 0..k-1), the small system diffusers hands to
 * torch.linalg.solve. Gaussian elimination with partial pivoting in float64, result in float32.
 */
function solveVandermonde(rks: readonly number[], b: readonly number[]): number[] {
  const k = rks.length;
  const m: number[][] = [];
  for (let p = 0; p < k; p++) {
    const row: number[] = [];
    for (let j = 0; j < k; j++) row.push(f(rks[j]! ** p));
    row.push(b[p]!);
    m.push(row);
  }
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = col + 1; r < k; r++) {
      const factor = m[r]![col]! / m[col]![col]!;
      for (let j = col; j <= k; j++) m[r]![j] = m[r]![j]! - factor * m[col]![j]!;
    }
  }
  const x = new Array<number>(k).fill(0);
  for (let r = k - 1; r >= 0; r--) {
    let sum = m[r]![k]!;
    for (let j = r + 1; j < k; j++) sum -= m[r]![j]! * x[j]!;
    x[r] = sum / m[r]![r]!;
  }
  return x.map(f);
}

export const createUniPCScheduler = (raw: RawSchedulerConfig): Scheduler => new UniPCMultistepScheduler(raw);
