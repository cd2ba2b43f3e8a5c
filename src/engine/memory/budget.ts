import { totalmem } from 'node:os';
import { EngineError } from '../types.ts';
import { formatBytes, largestFittingSize, peakBytes, type JobShape, type MemoryProfile } from './estimate.ts';

export const MEMORY_BUDGET_ENV = 'IMAGINE_MEMORY_BUDGET_MB';
/** Without a budget: three quarters of the machine's memory, leaving room for the OS and the bot. */
const DEFAULT_FRACTION_OF_RAM = 0.75;

/** The budget in bytes: the option, else $IMAGINE_MEMORY_BUDGET_MB, else 75% of RAM. */
export function resolveMemoryBudget(optionMb: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (optionMb !== undefined) {
    if (!Number.isFinite(optionMb) || optionMb <= 0) throw new EngineError('invalid-request', `memoryBudgetMb must be a positive number of megabytes, got ${optionMb}`);
    return optionMb * 1024 ** 2;
  }
  const raw = env[MEMORY_BUDGET_ENV];
  if (raw !== undefined && raw.trim() !== '') {
    const mb = Number(raw);
    if (!Number.isFinite(mb) || mb <= 0) throw new EngineError('invalid-request', `${MEMORY_BUDGET_ENV} must be a positive number of megabytes, got "${raw}"`);
    return mb * 1024 ** 2;
  }
  return Math.floor(totalmem() * DEFAULT_FRACTION_OF_RAM);
}

/** Refuses a job whose estimated peak exceeds the budget, saying the largest size that would fit. */
export function checkJobFits(modelName: string, profile: MemoryProfile, job: JobShape, budgetBytes: number): void {
  const needed = peakBytes(profile, job);
  if (needed <= budgetBytes) return;
  const fits = largestFittingSize(profile, job, budgetBytes);
  const size = `${job.width}×${job.height}${job.count > 1 ? ` × ${job.count} images` : ''}`;
  if (!fits) {
    throw new EngineError(
      'invalid-request',
      `model ${modelName} needs about ${formatBytes(peakBytes(profile, { ...job, width: 8, height: 8 }))} even at the smallest size, more than the memory budget of ${formatBytes(budgetBytes)} (${MEMORY_BUDGET_ENV})`,
    );
  }
  throw new EngineError(
    'invalid-request',
    `${size} needs about ${formatBytes(needed)} of memory, over the budget of ${formatBytes(budgetBytes)}; the largest that fits is ${fits.width}×${fits.height}`,
  );
}
