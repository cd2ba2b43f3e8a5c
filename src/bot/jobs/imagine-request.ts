import { isSchedulerName } from '../../engine/request.ts';
import { SCHEDULER_NAMES } from '../../engine/schedulers/scheduler.ts';
import { DEFAULTS, LIMITS, type SchedulerName } from '../../engine/types.ts';
import { findBannedWord } from '../settings/banned-words.ts';
import type { ChannelSettings } from '../settings/channel-settings.ts';
import type { ServedModel } from '../models/served-models.ts';
import { chooseModel } from '../models/model-choice.ts';
import type { UserPrefs } from '../settings/user-prefs.ts';
import { dimensionsFor, isSizeName, type Dimensions, type SizeName } from './sizes.ts';

/** /imagine options as the user typed them; anything may be out of range. */
export interface ImagineOptions {
  prompt: string;
  negative?: string | undefined;
  seed?: number | undefined;
  steps?: number | undefined;
  guidance?: number | undefined;
  size?: string | undefined;
  scheduler?: string | undefined;
  count?: number | undefined;
  model?: string | undefined;
  /** img2img: the starting image's size (the image itself is kept elsewhere), and how far to move from it. */
  image?: Dimensions | undefined;
  strength?: number | undefined;
}

/** What a request is resolved against besides the channel: the served models and the member's own defaults. */
export interface RequestContext {
  models: readonly ServedModel[];
  defaultModel: string;
  prefs?: UserPrefs | undefined;
}

/** A request ready for the engine: every field settled except the seed, which may be left to the engine. */
export interface BotRequest {
  prompt: string;
  /** Absent when the member gave none and the channel sets none: SDXL then uses zero embeddings, as diffusers does. */
  negativePrompt?: string;
  seed?: number;
  steps: number;
  guidance: number;
  scheduler?: SchedulerName;
  width: number;
  height: number;
  count: number;
  /** The served model it runs on (absent only in jobs journaled before models could be chosen). */
  model?: string;
  /** img2img: the starting image in the init image store (see attachments/init-image-store.ts). */
  initImageId?: string;
  /** img2img: share of the schedule run over the starting image. */
  strength?: number;
}

export type RequestCheck = { ok: true; request: BotRequest } | { ok: false; message: string };

export const MAX_PROMPT_LENGTH = 1000;

/** img2img strength as members may set it: below 0.05 almost nothing would change. */
export const STRENGTH_LIMITS = { min: 0.05, max: 1 } as const;

/** The shape whose aspect ratio is closest to the starting image's, when the member names none. */
export function sizeNameFor(image: Dimensions): SizeName {
  const ratio = image.width / image.height;
  const candidates: Array<[SizeName, number]> = [['square', 1], ['portrait', 2 / 3], ['landscape', 3 / 2]];
  let best = candidates[0]!;
  for (const candidate of candidates) if (Math.abs(Math.log(ratio / candidate[1])) < Math.abs(Math.log(ratio / best[1]))) best = candidate;
  return best[0];
}

const refuse = (message: string): RequestCheck => ({ ok: false, message });

function isWholeNumberIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** The channel's maximum, never above the engine's own. */
export function effectiveMax(channelMax: number | undefined, engineMax: number): number {
  return channelMax === undefined ? engineMax : Math.min(channelMax, engineMax);
}

/**
 * Checks a user's options against the engine's limits and the channel's settings, then fills the gaps
 * with the member's /prefs, then the channel's defaults. Explicit options win over both but never over
 * channel maxima; a preference outside the channel's limits is brought within them rather than refused
 * (the member chose it elsewhere). Every refusal names what is allowed.
 */
export function resolveImagineRequest(options: ImagineOptions, settings: ChannelSettings, context: RequestContext): RequestCheck {
  const prefs = context.prefs ?? {};
  if (!settings.enabled) return refuse('/imagine is turned off in this channel.');

  const prompt = options.prompt.trim();
  if (prompt === '') return refuse('The prompt is empty: describe the image you want.');
  if (prompt.length > MAX_PROMPT_LENGTH) return refuse(`The prompt is too long: at most ${MAX_PROMPT_LENGTH} characters.`);
  const negativePrompt = (options.negative ?? settings.negative ?? '').trim();
  if (negativePrompt.length > MAX_PROMPT_LENGTH) {
    return refuse(`The negative prompt is too long: at most ${MAX_PROMPT_LENGTH} characters.`);
  }
  const banned = findBannedWord(prompt, settings.bannedWords);
  if (banned !== undefined) return refuse(`Your prompt contains “${banned}”, which is not allowed in this channel.`);

  if (options.seed !== undefined && !isWholeNumberIn(options.seed, LIMITS.seed.min, LIMITS.seed.max)) {
    return refuse(`seed must be a whole number from ${LIMITS.seed.min} to ${LIMITS.seed.max}.`);
  }

  const maxSteps = effectiveMax(settings.maxSteps, LIMITS.steps.max);
  if (options.steps !== undefined && !isWholeNumberIn(options.steps, LIMITS.steps.min, maxSteps)) {
    const where = maxSteps < LIMITS.steps.max ? ' in this channel' : '';
    return refuse(`steps must be a whole number from ${LIMITS.steps.min} to ${maxSteps}${where}.`);
  }
  const steps = options.steps ?? Math.min(prefs.steps ?? settings.steps ?? DEFAULTS.steps, maxSteps);

  const { min: minGuidance, max: maxGuidance } = LIMITS.guidance;
  if (options.guidance !== undefined && !(Number.isFinite(options.guidance) && options.guidance >= minGuidance && options.guidance <= maxGuidance)) {
    return refuse(`guidance must be a number from ${minGuidance} to ${maxGuidance}.`);
  }
  const guidance = options.guidance ?? settings.guidance ?? DEFAULTS.guidance;

  const maxCount = effectiveMax(settings.maxCount, LIMITS.count.max);
  if (options.count !== undefined && !isWholeNumberIn(options.count, LIMITS.count.min, maxCount)) {
    const where = maxCount < LIMITS.count.max ? ' in this channel' : '';
    return refuse(`count must be a whole number from ${LIMITS.count.min} to ${maxCount}${where}.`);
  }
  const count = options.count ?? Math.min(DEFAULTS.count, maxCount);

  const choice = chooseModel(options.model, prefs.model, settings, context);
  if (!choice.ok) return refuse(choice.message);
  const model = choice.model;
  if (options.image && !model.capabilities.img2img) return refuse(`${model.name} cannot start from an image (it has no VAE encoder).`);

  if (options.strength !== undefined && options.image === undefined) return refuse('strength applies only with an image to start from.');
  if (options.strength !== undefined && !(Number.isFinite(options.strength) && options.strength >= STRENGTH_LIMITS.min && options.strength <= STRENGTH_LIMITS.max)) {
    return refuse(`strength must be a number from ${STRENGTH_LIMITS.min} to ${STRENGTH_LIMITS.max}.`);
  }

  const sizeName = options.size ?? (options.image ? sizeNameFor(options.image) : undefined) ?? prefs.size ?? settings.size ?? 'square';
  if (!isSizeName(sizeName)) return refuse('size must be square, portrait or landscape.');
  const { width, height } = dimensionsFor(sizeName, { width: model.nativeWidth, height: model.nativeHeight, family: model.family });

  const schedulerName = options.scheduler ?? prefs.scheduler ?? settings.scheduler;
  if (schedulerName !== undefined && !isSchedulerName(schedulerName)) {
    return refuse(`scheduler must be one of ${SCHEDULER_NAMES.join(', ')}.`);
  }

  const request: BotRequest = { prompt, ...(negativePrompt && { negativePrompt }), steps, guidance, width, height, count, model: model.name };
  if (options.seed !== undefined) request.seed = options.seed;
  if (schedulerName !== undefined) request.scheduler = schedulerName;
  if (options.image) {
    request.strength = options.strength ?? DEFAULTS.strength;
    // img2img runs int(steps × strength) of the steps (diffusers' get_timesteps).
    if (Math.floor(steps * request.strength) < 1) return refuse(`With strength ${request.strength}, ${steps} steps leave none to run: raise the steps or the strength.`);
  }
  return { ok: true, request };
}
