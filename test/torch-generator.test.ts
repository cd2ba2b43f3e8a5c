import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TorchGenerator } from '../src/engine/random/torch-generator.ts';

interface RandnCase {
  seed: number;
  shape: number[];
  first_call: number[];
  second_call_same_generator: number[];
}
const reference = JSON.parse(readFileSync(new URL('./reference/randn.json', import.meta.url), 'utf8')) as {
  cases: RandnCase[];
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('TorchGenerator matches torch.randn on the CPU generator', () => {
  for (const c of reference.cases) {
    it(`seed ${c.seed}, shape [${c.shape.join(', ')}], two calls`, () => {
      const count = c.shape.reduce((a, b) => a * b, 1);
      const generator = new TorchGenerator(c.seed);
      expect(maxAbsDiff(generator.randn(count), c.first_call)).toBeLessThan(1e-6);
      expect(maxAbsDiff(generator.randn(count), c.second_call_same_generator)).toBeLessThan(1e-6);
    });
  }

  it('re-seeding restarts the stream and clears the cached normal', () => {
    const generator = new TorchGenerator(7);
    const first = generator.randn(3); // leaves a cached second Box-Muller value
    generator.manualSeed(7);
    expect(Array.from(generator.randn(3))).toEqual(Array.from(first));
  });

  it('rejects seeds outside 0..4294967295', () => {
    expect(() => new TorchGenerator(-1)).toThrow(RangeError);
    expect(() => new TorchGenerator(2 ** 32)).toThrow(RangeError);
    expect(() => new TorchGenerator(1.5)).toThrow(RangeError);
  });
});
