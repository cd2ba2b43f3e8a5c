/**
 * Small pieces the diffusers scheduler ports share: config validation with errors that name the key,
 * the `alphas_cumprod` every DDPM-family scheduler starts from, and the zero-terminal-SNR rescale.
 */
import type { BaseSchedulerConfig } from './config.ts';
import { makeAlphasCumprod, makeBetas } from './noise-schedule.ts';

const f = Math.fround;

/** Throws unless `value` is one of `allowed`; the message names the key and the scheduler. */
export function requireOneOf<T extends string>(
  scheduler: string,
  key: string,
  value: unknown,
  allowed: readonly T[],
): asserts value is T {
  if (!allowed.includes(value as T)) {
    throw new Error(
      `scheduler_config.json: ${scheduler} does not support ${key} ${JSON.stringify(value)}; expected one of ${allowed
        .map((a) => JSON.stringify(a))
        .join(', ')}`,
    );
  }
}

/** For options diffusers has but this port leaves out: fail loudly rather than sample differently. */
export function rejectOption(scheduler: string, key: string, value: unknown, why = 'is not implemented'): never {
  throw new Error(`scheduler_config.json: ${scheduler}: ${key} = ${JSON.stringify(value)} ${why}`);
}

/** Checks the keys every DDPM-family scheduler reads, so a bad config fails at construction. */
export function validateBaseConfig(scheduler: string, config: BaseSchedulerConfig): void {
  const n = config.num_train_timesteps;
  if (!Number.isInteger(n) || n < 2) {
    throw new Error(`scheduler_config.json: num_train_timesteps must be an integer >= 2, got ${JSON.stringify(n)}`);
  }
  if (config.trained_betas !== null) {
    const betas: unknown = config.trained_betas;
    if (!Array.isArray(betas) || betas.length !== n || !betas.every((b) => typeof b === 'number' && Number.isFinite(b))) {
      throw new Error(`scheduler_config.json: trained_betas must be ${n} finite numbers (one per training timestep)`);
    }
  } else {
    requireOneOf(scheduler, 'beta_schedule', config.beta_schedule, ['linear', 'scaled_linear', 'squaredcos_cap_v2']);
  }
  requireOneOf(scheduler, 'timestep_spacing', config.timestep_spacing, ['linspace', 'leading', 'trailing']);
  if (!Number.isInteger(config.steps_offset) || config.steps_offset < 0) {
    throw new Error(`scheduler_config.json: steps_offset must be a non-negative integer, got ${config.steps_offset}`);
  }
}

/** Rejects a step count that is not a positive integer before any schedule is built from it. */
export function validateStepCount(numInferenceSteps: number): void {
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
    throw new RangeError(`steps must be a positive integer, got ${numInferenceSteps}`);
  }
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

/** The float32 `alphas_cumprod` a scheduler builds in its constructor, zero-SNR rescale included. */
export function schedulerAlphasCumprod(config: BaseSchedulerConfig & { rescale_betas_zero_snr?: boolean }): Float64Array {
  let betas = makeBetas(config);
  if (config.rescale_betas_zero_snr === true) betas = rescaleZeroTerminalSnr(betas);
  return makeAlphasCumprod(betas);
}

/**
 * Checks the arrays handed to `step` line up; a length mismatch would otherwise read past the end
 * and silently produce NaN latents.
 */
export function requireSameLength(modelOutput: Float32Array, sample: Float32Array): void {
  if (modelOutput.length !== sample.length) {
    throw new RangeError(`model output has ${modelOutput.length} values but the sample has ${sample.length}`);
  }
}

/**
 * Refuses a schedule with a timestep outside the training range. numpy's rounding makes diffusers
 * build such schedules for some step counts (e.g. 'trailing' spacing can end on timestep -1, which
 * torch then indexes from the end); sampling with them would be garbage, so fail with the cause.
 */
export function requireTimestepsInRange(
  scheduler: string,
  timesteps: readonly number[],
  trainSteps: number,
  numInferenceSteps: number,
  spacing: string,
): void {
  for (const t of timesteps) {
    if (Number.isInteger(t) && t >= 0 && t < trainSteps) continue;
    throw new RangeError(
      `${scheduler}: ${numInferenceSteps} steps with timestep_spacing "${spacing}" give timestep ${t}, outside 0..${trainSteps - 1} (diffusers builds the same broken schedule); choose another step count`,
    );
  }
}

/** `alphas_cumprod[t]`, refusing timesteps that would index past the training schedule. */
export function alphaAt(alphasCumprod: Float64Array, timestep: number): number {
  const value = alphasCumprod[timestep];
  if (!Number.isInteger(timestep) || value === undefined) {
    throw new RangeError(`timestep ${timestep} is outside the training schedule (0..${alphasCumprod.length - 1})`);
  }
  return value;
}
