import { randomInt } from 'node:crypto';
import { SCHEDULER_NAMES, type SchedulerName } from './schedulers/scheduler.ts';
import { DEFAULTS, EngineError, LIMITS, type GenerateRequest, type ModelInfo, type ResolvedRequest } from './types.ts';

function invalid(message: string): EngineError {
  return new EngineError('invalid-request', message);
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw invalid(`${name} must be a whole number from ${min} to ${max}, got ${value}`);
  return value;
}

function checkNumber(name: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) throw invalid(`${name} must be a number from ${min} to ${max}, got ${value}`);
  return value;
}

function checkSize(name: string, value: number): number {
  const { min, max } = LIMITS.size;
  if (!Number.isInteger(value) || value < min || value > max || value % LIMITS.sizeMultiple !== 0) {
    throw invalid(`${name} must be a multiple of ${LIMITS.sizeMultiple} from ${min} to ${max}, got ${value}`);
  }
  return value;
}

export function isSchedulerName(value: string): value is SchedulerName {
  return (SCHEDULER_NAMES as readonly string[]).includes(value);
}

/** A fresh seed in the full 0 … 2^32-1 range (randomInt's upper bound is exclusive). */
export function randomSeed(): number {
  return randomInt(0, LIMITS.seed.max + 1);
}

/** Validates a request and fills in defaults (the model's size and scheduler, a random seed). */
export function resolveRequest(request: GenerateRequest, model: ModelInfo): ResolvedRequest {
  if (typeof request.prompt !== 'string' || request.prompt.trim().length === 0) throw invalid('prompt must not be empty');
  if (request.negativePrompt !== undefined && typeof request.negativePrompt !== 'string') throw invalid('negative prompt must be text');
  const scheduler = request.scheduler ?? model.defaultScheduler;
  if (!isSchedulerName(scheduler)) throw invalid(`scheduler must be one of ${SCHEDULER_NAMES.join(', ')}, got ${String(scheduler)}`);
  return {
    prompt: request.prompt,
    negativePrompt: request.negativePrompt,
    seed: checkInteger('seed', request.seed ?? randomSeed(), LIMITS.seed.min, LIMITS.seed.max),
    steps: checkInteger('steps', request.steps ?? DEFAULTS.steps, LIMITS.steps.min, LIMITS.steps.max),
    guidance: checkNumber('guidance', request.guidance ?? DEFAULTS.guidance, LIMITS.guidance.min, LIMITS.guidance.max),
    scheduler,
    width: checkSize('width', request.width ?? model.nativeWidth),
    height: checkSize('height', request.height ?? model.nativeHeight),
    count: checkInteger('count', request.count ?? DEFAULTS.count, LIMITS.count.min, LIMITS.count.max),
  };
}
