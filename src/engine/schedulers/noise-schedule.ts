import type { BaseSchedulerConfig } from './config.ts';

/** numpy's `round`: halves go to the even neighbour (Math.round sends them up). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torch.linspace semantics (both ends included), computed in float64. */
export function linspace(start: number, end: number, count: number): number[] {
  if (count === 1) return [start];
  const step = (end - start) / (count - 1);
  return Array.from({ length: count }, (_, i) => start + step * i);
}

/** diffusers' `betas_for_alpha_bar` with the cosine alpha-bar function (`squaredcos_cap_v2`). */
function cosineBetas(numTrainTimesteps: number, maxBeta = 0.999): number[] {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  return Array.from({ length: numTrainTimesteps }, (_, i) => {
    const t1 = i / numTrainTimesteps;
    const t2 = (i + 1) / numTrainTimesteps;
    return Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  });
}

/** The float32 `betas` tensor diffusers builds in every scheduler's constructor. */
export function makeBetas(config: BaseSchedulerConfig): Float64Array {
  const n = config.num_train_timesteps;
  let betas: number[];
  if (config.trained_betas !== null) {
    betas = [...config.trained_betas];
  } else if (config.beta_schedule === 'linear') {
    betas = linspace(config.beta_start, config.beta_end, n);
  } else if (config.beta_schedule === 'scaled_linear') {
    betas = linspace(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n).map((b) => Math.fround(b) ** 2);
  } else if (config.beta_schedule === 'squaredcos_cap_v2') {
    betas = cosineBetas(n);
  } else {
    throw new Error(`scheduler_config.json: unsupported beta_schedule "${String(config.beta_schedule)}"`);
  }
  return Float64Array.from(betas, Math.fround);
}

/**
 * `alphas_cumprod = cumprod(1 - betas)`. torch's CPU cumprod keeps the running product in double
 * (`acc_type<float, false>`) and only rounds each stored element to float32.
 */
export function makeAlphasCumprod(betas: Float64Array): Float64Array {
  const out = new Float64Array(betas.length);
  let product = 1;
  for (let i = 0; i < betas.length; i++) {
    product *= Math.fround(1 - betas[i]!);
    out[i] = Math.fround(product);
  }
  return out;
}

/**
 * Integer timesteps for the `leading` / `trailing` / `linspace` spacings of the DDPM-family
 * schedulers (DDIM, DDPM, PNDM, LCM), in descending order.
 */
export function spacedTimesteps(config: BaseSchedulerConfig, numInferenceSteps: number): number[] {
  const n = config.num_train_timesteps;
  if (numInferenceSteps > n) {
    throw new RangeError(`steps (${numInferenceSteps}) cannot exceed the model's num_train_timesteps (${n})`);
  }
  switch (config.timestep_spacing) {
    case 'linspace':
      return linspace(0, n - 1, numInferenceSteps)
        .map(roundHalfEven)
        .reverse();
    case 'leading': {
      const ratio = Math.floor(n / numInferenceSteps);
      return Array.from({ length: numInferenceSteps }, (_, i) => i * ratio + config.steps_offset).reverse();
    }
    case 'trailing': {
      // np.arange(n, 0, -ratio) exactly as numpy builds it: ceil(n / ratio) values n + i * delta with
      // delta = (n - ratio) - n. Accumulating t -= ratio instead drifts, and can add a step at ~0.
      const ratio = n / numInferenceSteps;
      const count = Math.ceil((0 - n) / -ratio);
      const delta = n - ratio - n;
      return Array.from({ length: count }, (_, i) => roundHalfEven(n + i * delta) - 1);
    }
    default:
      throw new Error(`scheduler_config.json: unsupported timestep_spacing "${String(config.timestep_spacing)}"`);
  }
}
