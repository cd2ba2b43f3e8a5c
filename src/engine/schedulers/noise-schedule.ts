/**
 * The training noise schedule (betas, ᾱ) and the timestep spacings of diffusers' `set_timesteps`,
 * built with the numpy / torch arithmetic diffusers uses and rounded to float32 where it rounds, so
 * that timesteps and ᾱ come out identical.
 */
import type { BaseSchedulerConfig, TimestepSpacing } from './config.ts';

const f = Math.fround;

/** numpy's `round`: halves go to the even neighbour (Math.round sends them up). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * `numpy.linspace(start, stop, num)` in float64: `arange(num) * step + start` with the last element set to
 * `stop` exactly (it matters for the Karras ramp, whose last sigma must be exactly sigma_min). The betas and
 * integer timesteps diffusers builds with torch/np.linspace use it too: there the pinned end moves the
 * float64 value by an ulp at most, which neither the float32 cast nor rounding to an integer can see.
 */
export function npLinspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 0) return out;
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

/**
 * `torch.linspace(start, end, steps, dtype=float32)` as torch's current CPU kernel computes it, which
 * differs from npLinspace in its arithmetic, not only its precision: a float32 step, the first half filled
 * forwards from `start` and the second half backwards from `end`, each value one fused multiply-add (the
 * product is exact in float64, so only the sum rounds).
 */
export function torchLinspaceF32(start: number, end: number, steps: number): number[] {
  const s = f(start);
  const e = f(end);
  if (steps === 1) return [s];
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  return Array.from({ length: steps }, (_, i) => (i < halfway ? f(s + step * i) : f(e - step * (steps - i - 1))));
}

/**
 * `numpy.arange(start, stop, step)` for float steps: ceil((stop - start) / step) values
 * start + i * delta, where numpy's fill uses delta = (start + step) - start rather than step.
 */
export function npArange(start: number, stop: number, step: number): number[] {
  const count = Math.max(Math.ceil((stop - start) / step), 0);
  const delta = start + step - start;
  return Array.from({ length: count }, (_, i) => start + i * delta);
}

/** diffusers' `betas_for_alpha_bar`: the betas whose cumulative product follows `alphaBar` on [0, 1]. */
function betasForAlphaBar(numTrainTimesteps: number, alphaBar: (t: number) => number, maxBeta = 0.999): number[] {
  return Array.from({ length: numTrainTimesteps }, (_, i) => {
    const t1 = i / numTrainTimesteps;
    const t2 = (i + 1) / numTrainTimesteps;
    return Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  });
}

/** The float32 `betas` tensor diffusers builds in every scheduler's constructor. */
export function makeBetas(config: BaseSchedulerConfig): Float64Array {
  const n = config.num_train_timesteps;
  let betas: ArrayLike<number>;
  if (config.trained_betas !== null) {
    betas = config.trained_betas;
  } else if (config.beta_schedule === 'linear') {
    betas = npLinspace(config.beta_start, config.beta_end, n);
  } else if (config.beta_schedule === 'scaled_linear') {
    betas = npLinspace(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n).map((b) => f(b) ** 2);
  } else if (config.beta_schedule === 'squaredcos_cap_v2') {
    betas = betasForAlphaBar(n, (t) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2);
  } else if (config.beta_schedule === 'exp') {
    betas = betasForAlphaBar(n, (t) => Math.exp(t * -12));
  } else {
    throw new Error(`scheduler_config.json: unsupported beta_schedule "${String(config.beta_schedule)}"`);
  }
  return Float64Array.from(betas, f);
}

/**
 * `alphas_cumprod = cumprod(1 - betas)`. torch's CPU cumprod keeps the running product in double
 * (`acc_type<float, false>`) and only rounds each stored element to float32.
 */
export function makeAlphasCumprod(betas: Float64Array): Float64Array {
  const out = new Float64Array(betas.length);
  let product = 1;
  for (let i = 0; i < betas.length; i++) {
    product *= f(1 - betas[i]!);
    out[i] = f(product);
  }
  return out;
}

/**
 * diffusers' `rescale_zero_terminal_snr` (Lin et al. 2023, Algorithm 1) on float32 betas: shifts and
 * scales sqrt(ᾱ) so that the last timestep has exactly zero signal, keeping the first one unchanged.
 */
export function rescaleZeroTerminalSnr(betas: Float64Array): Float64Array {
  const alphasCumprod = makeAlphasCumprod(betas);
  const sqrtBar = alphasCumprod.map((a) => f(Math.sqrt(a)));
  const first = sqrtBar[0]!;
  const last = sqrtBar[sqrtBar.length - 1]!;
  const scale = f(first / f(first - last));
  const alphasBar = sqrtBar.map((s) => {
    const shifted = f(f(s - last) * scale);
    return f(shifted * shifted);
  });
  const out = new Float64Array(betas.length);
  for (let i = 0; i < betas.length; i++) {
    const alpha = i === 0 ? alphasBar[0]! : f(alphasBar[i]! / alphasBar[i - 1]!);
    out[i] = f(1 - alpha);
  }
  return out;
}

type ScheduleConfig = BaseSchedulerConfig & { rescale_betas_zero_snr?: boolean };

/** The float32 `alphas_cumprod` a scheduler builds in its constructor, zero-SNR rescale included. */
export function schedulerAlphasCumprod(config: ScheduleConfig): Float64Array {
  let betas = makeBetas(config);
  if (config.rescale_betas_zero_snr === true) betas = rescaleZeroTerminalSnr(betas);
  return makeAlphasCumprod(betas);
}

/**
 * `alphas_cumprod` for the schedulers that step in sigma = sqrt((1 - ᾱ) / ᾱ): a zero terminal ᾱ would
 * make the first sigma infinite, so diffusers substitutes fp16's smallest subnormal there.
 */
export function sigmaSchedulerAlphasCumprod(config: ScheduleConfig): Float64Array {
  const alphasCumprod = schedulerAlphasCumprod(config);
  if (config.rescale_betas_zero_snr === true) alphasCumprod[alphasCumprod.length - 1] = 2 ** -24;
  return alphasCumprod;
}

/**
 * Descending timesteps for the `linspace` / `leading` / `trailing` spacings of `set_timesteps`. The
 * `linspace` ones are left fractional: the DDPM family rounds them, the sigma schedulers keep them.
 */
export function spacedTimesteps(spacing: TimestepSpacing, numTrainTimesteps: number, numInferenceSteps: number, stepsOffset: number): number[] {
  const n = numTrainTimesteps;
  switch (spacing) {
    case 'linspace':
      return Array.from(npLinspace(0, n - 1, numInferenceSteps)).reverse();
    case 'leading': {
      const ratio = Math.floor(n / numInferenceSteps);
      return Array.from({ length: numInferenceSteps }, (_, i) => i * ratio + stepsOffset).reverse();
    }
    case 'trailing':
      // np.arange(n, 0, -ratio) exactly as numpy builds it: its length is ceil(n / ratio), which rounding
      // can push to steps + 1 (e.g. 61 steps), ending at timestep -1. Accumulating t -= ratio instead
      // drifts. Reproduced as is; the DDPM family refuses such schedules (requireTimestepsInRange).
      return npArange(n, 0, -n / numInferenceSteps).map((t) => roundHalfEven(t) - 1);
    default:
      throw new Error(`scheduler_config.json: unsupported timestep_spacing "${String(spacing)}"`);
  }
}

/**
 * The multistep solvers' (DPM-Solver, UniPC) integer timesteps: steps + 1 points over [0, lastTimestep)
 * from which the t = 0 end is dropped, so the final step lands on the last sigma. `lastTimestep` is
 * below num_train_timesteps where DPM-Solver's `lambda_min_clipped` trims the noisiest timesteps.
 */
export function multistepTimesteps(
  spacing: TimestepSpacing,
  numTrainTimesteps: number,
  lastTimestep: number,
  numInferenceSteps: number,
  stepsOffset: number,
): number[] {
  switch (spacing) {
    case 'linspace':
      return Array.from(npLinspace(0, lastTimestep - 1, numInferenceSteps + 1), roundHalfEven)
        .reverse()
        .slice(0, -1);
    case 'leading': {
      const ratio = Math.floor(lastTimestep / (numInferenceSteps + 1));
      return Array.from({ length: numInferenceSteps }, (_, i) => (numInferenceSteps - i) * ratio + stepsOffset);
    }
    case 'trailing':
      return npArange(lastTimestep, 0, -numTrainTimesteps / numInferenceSteps).map((t) => roundHalfEven(t) - 1);
    default:
      throw new Error(`scheduler_config.json: unsupported timestep_spacing "${String(spacing)}"`);
  }
}
