import { describe, expect, it } from 'vitest';
import { perEngineBudgetMb } from '../../src/bot/engine-loader.ts';

describe('the bot engine loader', () => {
  it('splits one memory budget between the engines of a concurrent bot', () => {
    expect(perEngineBudgetMb(1, { IMAGINE_MEMORY_BUDGET_MB: '8000' })).toBe(8000);
    expect(perEngineBudgetMb(4, { IMAGINE_MEMORY_BUDGET_MB: '8000' })).toBe(2000);
    expect(() => perEngineBudgetMb(2, { IMAGINE_MEMORY_BUDGET_MB: 'lots' })).toThrow('IMAGINE_MEMORY_BUDGET_MB must be a positive number of megabytes');
  });
});
