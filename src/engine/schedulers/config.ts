import type { PredictionType, RawSchedulerConfig } from './scheduler.ts';

/** `exp` is Heun's alone; the other classes reject it. */
export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2' | 'exp';
export type TimestepSpacing = 'linspace' | 'leading' | 'trailing';

/** Keys shared by the diffusers schedulers; each class supplies its own defaults. */
export interface BaseSchedulerConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  trained_betas: readonly number[] | null;
  prediction_type: PredictionType;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
}

/**
 * The training-schedule defaults that open every diffusers class's `__init__` signature (LCM and Heun
 * override the beta range). Spread first so the keys keep diffusers' order.
 */
export const TRAINING_SCHEDULE_DEFAULTS: Readonly<
  Pick<BaseSchedulerConfig, 'num_train_timesteps' | 'beta_start' | 'beta_end' | 'beta_schedule' | 'trained_betas'>
> = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
};

/**
 * `from_config` semantics: keys present in the model's config win, absent (or null, where the
 * class default is not null) keys take the class default, and unknown keys are ignored.
 */
export function resolveConfig<T extends object>(raw: RawSchedulerConfig, defaults: Readonly<T>): T {
  const resolved: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const key of Object.keys(defaults)) {
    const value = raw[key];
    if (value === undefined) continue;
    const fallback = (defaults as Record<string, unknown>)[key];
    if (value === null && fallback !== null) continue;
    if (fallback !== null && value !== null && typeof fallback !== typeof value) {
      throw new TypeError(`scheduler_config.json: "${key}" should be a ${typeof fallback}, got ${JSON.stringify(value)}`);
    }
    resolved[key] = value;
  }
  return resolved as unknown as T;
}
