/**
 * Sigma-space math shared by the diffusers schedulers that work on sigma = sqrt((1 - ᾱ) / ᾱ)
 * (DPM-Solver++, UniPC, and the Euler family): Karras spacing, sigma -> timestep interpolation and
 * the variance-preserving alpha_t / sigma_t conversions. diffusers builds the schedules with numpy
 * in float64 from float32 tensors and steps with float32 tensors; the helpers below follow the
 * same precision at each stage so that rounded timesteps and sigmas come out identical.
 */

import { npLinspace } from './noise-schedule.ts';

const f = Math.fround;

/** `((1 - alphas_cumprod) / alphas_cumprod) ** 0.5`, the float32 tensor diffusers keeps, ascending in t. */
export function vpSigmas(alphasCumprod: Float64Array): Float64Array {
  return alphasCumprod.map((a) => f(Math.sqrt(f(f(1 - a) / a))));
}

/** `np.log(sigmas)` of the float32 training sigmas: numpy keeps the result in float32. */
export function logSigmas(sigmas: Float64Array): Float64Array {
  return sigmas.map((s) => f(Math.log(s)));
}

/**
 * `_convert_to_karras` (rho = 7, Karras et al. 2022): descending sigmas from sigma_max to sigma_min,
 * in float64 as numpy computes them.
 */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number, rho = 7): Float64Array {
  const ramp = npLinspace(0, 1, numInferenceSteps);
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  return ramp.map((r) => (maxInvRho + r * (minInvRho - maxInvRho)) ** rho);
}

/**
 * `_sigma_to_t`: a fractional timestep found by linear interpolation in log-sigma between the two
 * training sigmas around `sigma`. `logSigmasAscending` is `np.log(training sigmas)`, ascending in t.
 * The bracket is chosen exactly as numpy's `cumsum(dists >= 0).argmax()` does: the first index at
 * which the running count of training log-sigmas not above log(sigma) reaches its maximum.
 */
export function sigmaToT(sigma: number, logSigmasAscending: Float64Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  const n = logSigmasAscending.length;
  let count = 0;
  let best = 0;
  let lowIdx = 0;
  for (let i = 0; i < n; i++) {
    if (logSigma - logSigmasAscending[i]! >= 0) count++;
    if (count > best) {
      best = count;
      lowIdx = i;
    }
  }
  lowIdx = Math.min(lowIdx, n - 2);
  const highIdx = lowIdx + 1;
  const low = logSigmasAscending[lowIdx]!;
  const high = logSigmasAscending[highIdx]!;
  const w = Math.min(Math.max((low - logSigma) / (low - high), 0), 1);
  return (1 - w) * lowIdx + w * highIdx;
}

/**
 * `_sigma_to_alpha_sigma_t` on a float32 sigma: the variance-preserving pair with
 * alpha_t = 1 / sqrt(sigma² + 1) and sigma_t = sigma * alpha_t, each op rounded to float32.
 */
export function sigmaToAlphaSigmaT(sigma: number): { alphaT: number; sigmaT: number } {
  const alphaT = f(1 / f(Math.sqrt(f(f(sigma * sigma) + 1))));
  return { alphaT, sigmaT: f(sigma * alphaT) };
}

/** lambda_t = log(alpha_t) - log(sigma_t), the half log-SNR the multistep solvers step in. */
export function lambdaT(alphaT: number, sigmaT: number): number {
  return f(f(Math.log(alphaT)) - f(Math.log(sigmaT)));
}

/**
 * `index_for_timestep` of the multistep schedulers, used once to initialise the step counter from the
 * first timestep given to `step`: the second match when the timestep repeats (so an img2img start in
 * the middle of a repeated pair does not skip a sigma), the only match otherwise, and the last index
 * when there is none.
 */
export function indexForTimestep(timesteps: readonly number[], timestep: number): number {
  let first = -1;
  for (let i = 0; i < timesteps.length; i++) {
    if (timesteps[i] !== timestep) continue;
    if (first >= 0) return i;
    first = i;
  }
  return first >= 0 ? first : timesteps.length - 1;
}
