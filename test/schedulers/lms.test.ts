import { describe, expect, it } from 'vitest';
import { createLmsScheduler, lmsCoefficient, LmsDiscreteScheduler } from '../../src/engine/schedulers/lms.ts';
import { referenceCase, relativeError } from './helpers.ts';
import { expectValidSigmaRun, sigmaSchedulerSuite } from './sigma-helpers.ts';

const { rawConfig } = referenceCase('lms');
const make = (extra: Record<string, unknown> = {}): LmsDiscreteScheduler => new LmsDiscreteScheduler({ ...rawConfig, ...extra });

describe('lms (LMSDiscreteScheduler)', () => {
  sigmaSchedulerSuite('lms', (raw) => new LmsDiscreteScheduler(raw));

  it('exposes a factory returning the named scheduler', () => {
    expect(createLmsScheduler(rawConfig).name).toBe('lms');
  });

  it('integrates the Lagrange basis polynomials exactly', () => {
    const sigmas = [14.6, 7.8, 4.6, 2.9, 1.95, 0];
    // Order 1: the basis is 1, so the coefficient is the step length.
    expect(lmsCoefficient(sigmas, 1, 0, 0)).toBeCloseTo(7.8 - 14.6, 12);
    // Order 2, node sigmas[1]: integral of (tau - s0) / (s1 - s0) from s1 to s2.
    const [s0, s1, s2] = [sigmas[0]!, sigmas[1]!, sigmas[2]!];
    expect(lmsCoefficient(sigmas, 2, 1, 0)).toBeCloseTo(((s2 - s0) ** 2 - (s1 - s0) ** 2) / 2 / (s1 - s0), 12);
    // The basis polynomials sum to 1, so the coefficients of any order sum to the step length.
    for (let order = 1; order <= 4; order++) {
      const t = 4;
      let sum = 0;
      for (let j = 0; j < order; j++) sum += lmsCoefficient(sigmas, order, t, j);
      expect(sum).toBeCloseTo(sigmas[t + 1]! - sigmas[t]!, 12);
    }
  });

  it('supports karras, exponential and beta sigmas', () => {
    for (const flag of ['use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas']) {
      const scheduler = make({ [flag]: true });
      expectValidSigmaRun(scheduler, 25, 25);
      expect(relativeError([scheduler.sigmas[0]!], [14.614645004272461])).toBeLessThan(1e-6);
    }
    expect(() => make({ use_exponential_sigmas: true, use_beta_sigmas: true })).toThrow(/only one of/);
  });

});
