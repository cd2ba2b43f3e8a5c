import { describe, expect, it } from 'vitest';
import { checkJobFits, resolveMemoryBudget } from '../../src/engine/memory/budget.ts';
import { largestFittingSize, memoryProfileOf, peakBytes } from '../../src/engine/memory/estimate.ts';
import { EngineError } from '../../src/engine/types.ts';

/**
 * Expected figures are worked by hand from the documented model, peak = runtime + weights +
 * rows × (α·A + β·A²), with SD 1.5's UNet (320 first-level channels, 8 heads, attention at full
 * latent resolution): runtime 536 870 912, α = 312 × 320 = 99 840, β = 2 × 8 × 4 = 64.
 */
const SD15_WEIGHTS = 3_446_278_160;
const sd15 = memoryProfileOf({
  weightsBytes: SD15_WEIGHTS,
  unet: { firstLevelChannels: 320, attentionHeads: 8, attentionAtFullResolution: true },
  latentSpace: true,
});

describe('memory estimate', () => {
  it('scales with latent area and its square, times the UNet batch rows', () => {
    // 512²: A = 4096, guidance on → 2 rows: 2 × (99 840 × 4096 + 64 × 4096²).
    expect(peakBytes(sd15, { width: 512, height: 512, count: 1, guidance: 7.5 })).toBe(6_948_522_000);
    expect(peakBytes(sd15, { width: 768, height: 768, count: 1, guidance: 7.5 })).toBe(16_695_035_920);
    // Guidance ≤ 1 runs one row; count 2 with guidance runs four.
    expect(peakBytes(sd15, { width: 512, height: 512, count: 1, guidance: 1 })).toBe(5_465_835_536);
    expect(peakBytes(sd15, { width: 512, height: 512, count: 2, guidance: 7.5 })).toBe(9_913_894_928);
  });

  it('reads SD 1.5 sizes for a folder without a unet config, and makes attention a level down 16× cheaper', () => {
    const unknown = memoryProfileOf({ weightsBytes: SD15_WEIGHTS, unet: { firstLevelChannels: undefined, attentionHeads: undefined, attentionAtFullResolution: undefined }, latentSpace: true });
    expect(unknown).toEqual(sd15);
    const xlLike = memoryProfileOf({ weightsBytes: 0, unet: { firstLevelChannels: 320, attentionHeads: 8, attentionAtFullResolution: false }, latentSpace: true });
    expect(xlLike.bytesPerLatentPixelSquared).toBe(4);
  });

  it('finds the largest size with the same aspect ratio that fits a budget', () => {
    expect(largestFittingSize(sd15, { width: 768, height: 768, count: 1, guidance: 7.5 }, 6 * 1024 ** 3)).toEqual({ width: 480, height: 480 });
    expect(largestFittingSize(sd15, { width: 512, height: 768, count: 1, guidance: 7.5 }, 8 * 1024 ** 3)).toEqual({ width: 472, height: 704 });
    expect(largestFittingSize(sd15, { width: 512, height: 512, count: 1, guidance: 7.5 }, 3 * 1024 ** 3)).toBeUndefined();
  });

  it('refuses a request over the budget with an invalid-request error naming the largest size that fits', () => {
    expect(() => checkJobFits('sd15', sd15, { width: 512, height: 512, count: 1, guidance: 7.5 }, 7 * 1024 ** 3)).not.toThrow();
    let error: unknown;
    try {
      checkJobFits('sd15', sd15, { width: 768, height: 768, count: 1, guidance: 7.5 }, 6 * 1024 ** 3);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('invalid-request');
    expect((error as EngineError).message).toBe('768×768 needs about 15.5 GB of memory, over the budget of 6.0 GB; the largest that fits is 480×480');
    expect(() => checkJobFits('sd15', sd15, { width: 512, height: 512, count: 1, guidance: 7.5 }, 3 * 1024 ** 3)).toThrow(
      /^model sd15 needs about 3\.7 GB even at the smallest size, more than the memory budget of 3\.0 GB \(IMAGINE_MEMORY_BUDGET_MB\)$/,
    );
  });

  it('takes the budget from the option, else IMAGINE_MEMORY_BUDGET_MB, and rejects nonsense', () => {
    expect(resolveMemoryBudget(100, { IMAGINE_MEMORY_BUDGET_MB: '5' })).toBe(100 * 1024 ** 2);
    expect(resolveMemoryBudget(undefined, { IMAGINE_MEMORY_BUDGET_MB: '2048' })).toBe(2048 * 1024 ** 2);
    expect(resolveMemoryBudget(undefined, {})).toBeGreaterThan(0);
    expect(() => resolveMemoryBudget(undefined, { IMAGINE_MEMORY_BUDGET_MB: 'lots' })).toThrow('IMAGINE_MEMORY_BUDGET_MB must be a positive number of megabytes, got "lots"');
    expect(() => resolveMemoryBudget(-1, {})).toThrow(/memoryBudgetMb must be a positive number/);
  });
});
