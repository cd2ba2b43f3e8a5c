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

/** The schedulers diffusers' DDPMPipeline / DDIMPipeline step with: they neither scale the input nor the initial noise. */
const UNCONDITIONAL_SCHEDULERS: readonly SchedulerName[] = ['ddpm', 'ddim'];

/** What a model's family allows of the prompt, the init image and the scheduler. */
function checkFamilyRules(request: GenerateRequest, model: ModelInfo, scheduler: SchedulerName): void {
  if (model.family === 'unconditional') {
    const prompted = (typeof request.prompt === 'string' && request.prompt.trim().length > 0) || request.negativePrompt !== undefined;
    if (prompted) throw invalid(`${model.name} draws without a prompt (an unconditional ${model.defaultScheduler === 'ddim' ? 'DDIM' : 'DDPM'} model): leave the prompt out`);
    if (request.initImage !== undefined) throw invalid(`${model.name} is an unconditional model and cannot start from an image`);
    if (!UNCONDITIONAL_SCHEDULERS.includes(scheduler)) {
      throw invalid(`${model.name} is an unconditional model: it runs with the ${UNCONDITIONAL_SCHEDULERS.join(' or ')} scheduler, not ${scheduler}`);
    }
    return;
  }
  if (typeof request.prompt !== 'string' || request.prompt.trim().length === 0) throw invalid('prompt must not be empty');
  if (request.initImage !== undefined && !model.capabilities.img2img) {
    throw invalid(`${model.name} cannot start from an image: ${model.path}/vae_encoder/model.onnx is missing (img2img needs the VAE encoder)`);
  }
}

function checkStrength(request: GenerateRequest): number | undefined {
  if (request.initImage === undefined) {
    if (request.strength !== undefined) throw invalid('strength applies only when starting from an init image');
    return undefined;
  }
  const strength = request.strength ?? DEFAULTS.strength;
  if (typeof strength !== 'number' || !Number.isFinite(strength) || strength <= 0 || strength > 1) {
    throw invalid(`strength must be a number above 0 and at most 1, got ${String(strength)}`);
  }
  return strength;
}

/**
 * Validates a request and fills in defaults (the model's size and scheduler, a random seed). For
 * img2img the caller has already set width and height to the init image's output size.
 */
export function resolveRequest(request: GenerateRequest, model: ModelInfo): ResolvedRequest {
  if (request.prompt !== undefined && typeof request.prompt !== 'string') throw invalid('prompt must be text');
  if (request.negativePrompt !== undefined && typeof request.negativePrompt !== 'string') throw invalid('negative prompt must be text');
  const scheduler = request.scheduler ?? model.defaultScheduler;
  if (!isSchedulerName(scheduler)) throw invalid(`scheduler must be one of ${SCHEDULER_NAMES.join(', ')}, got ${String(scheduler)}`);
  checkFamilyRules(request, model, scheduler);
  const strength = checkStrength(request);
  return {
    prompt: model.family === 'unconditional' ? '' : request.prompt,
    negativePrompt: request.negativePrompt,
    seed: checkInteger('seed', request.seed ?? randomSeed(), LIMITS.seed.min, LIMITS.seed.max),
    steps: checkInteger('steps', request.steps ?? DEFAULTS.steps, LIMITS.steps.min, model.family === 'unconditional' ? LIMITS.unconditionalSteps.max : LIMITS.steps.max),
    guidance: checkNumber('guidance', request.guidance ?? DEFAULTS.guidance, LIMITS.guidance.min, LIMITS.guidance.max),
    scheduler,
    width: checkSize('width', request.width ?? model.nativeWidth),
    height: checkSize('height', request.height ?? model.nativeHeight),
    count: checkInteger('count', request.count ?? DEFAULTS.count, LIMITS.count.min, LIMITS.count.max),
    ...(strength !== undefined && { strength }),
  };
}
