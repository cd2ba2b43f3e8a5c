import type { PredictionType, RawSchedulerConfig } from './scheduler.ts';

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
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
 * `from_config` semantics: keys present in the model's config win, absent (or null, where the
 * class default is not null) keys take the class default, and unknown keys are ignored.
 */
export function resolveConfig<T extends object>(raw: RawSchedulerConfig, defaults: T): T {
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
