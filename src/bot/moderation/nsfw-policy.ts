import type { ServedModel } from '../models/served-models.ts';

/**
 * What happens to an image the model's safety checker flags, per channel: `block` withholds it,
 * `spoiler` sends it hidden behind Discord's spoiler cover, `allow` sends it as it is.
 */
export const NSFW_POLICIES = ['block', 'spoiler', 'allow'] as const;
export type NsfwPolicy = (typeof NSFW_POLICIES)[number];

export function isNsfwPolicy(value: unknown): value is NsfwPolicy {
  return typeof value === 'string' && (NSFW_POLICIES as readonly string[]).includes(value);
}

/**
 * How a job's flagged images are delivered. Settled when the job is accepted (from the channel and
 * server rules then in force) and carried with the job through the journal and the distributed queue,
 * so that a worker on another machine, or the bot after a restart, applies the same rules.
 */
export interface SafetyHandling {
  flagged: NsfwPolicy;
  /** The server lets owners get their withheld images by DM. */
  dmWithheld: boolean;
}

/** For a job that carries no handling (journaled by an older version): the strictest. */
export const FAIL_CLOSED_SAFETY: Readonly<SafetyHandling> = Object.freeze({ flagged: 'block', dmWithheld: false });

export interface ChannelNsfwSettings {
  nsfw?: NsfwPolicy;
  /** A moderator allowed models without a safety checker in this (not age-restricted) channel. */
  uncheckedModels?: boolean;
}

export interface EffectivePolicy {
  policy: NsfwPolicy;
  /** How it came about, for /settings show. */
  why: 'set' | 'default' | 'allow-needs-age-restriction';
}

/**
 * The policy in force: the moderator's choice, else `spoiler` in an age-restricted channel and `block`
 * elsewhere. `allow` is honoured only where Discord marks the channel age-restricted; a channel that
 * lost the mark falls back to `block` rather than keep showing flagged images to everyone.
 */
export function effectivePolicy(settings: ChannelNsfwSettings, ageRestricted: boolean): EffectivePolicy {
  const set = settings.nsfw;
  if (set === 'allow' && !ageRestricted) return { policy: 'block', why: 'allow-needs-age-restriction' };
  if (set !== undefined) return { policy: set, why: 'set' };
  return { policy: ageRestricted ? 'spoiler' : 'block', why: 'default' };
}

/** Refusal for `allow` where it cannot apply; undefined when the policy may be set here. */
export function policyRefusal(policy: NsfwPolicy, ageRestricted: boolean): string | undefined {
  if (policy !== 'allow' || ageRestricted) return undefined;
  return 'nsfw: allow is only for age-restricted channels. Mark this channel age-restricted in its Discord settings first, or choose block or spoiler.';
}

export type UncheckedModelsRule = 'age-restricted' | 'allowed-here' | 'not-allowed';

export function uncheckedModelsRule(settings: ChannelNsfwSettings, ageRestricted: boolean): UncheckedModelsRule {
  if (ageRestricted) return 'age-restricted';
  return settings.uncheckedModels === true ? 'allowed-here' : 'not-allowed';
}

/**
 * Whether `model` may draw here: a model without a safety checker cannot flag anything, so outside
 * age-restricted channels it needs a moderator's explicit allowance, unless the operator vouches for it
 * (IMAGINE_SFW_MODELS: models that cannot draw explicit images, such as emoji-sd, trained on emoji only).
 */
export function uncheckedModelRefusal(
  model: Pick<ServedModel, 'name' | 'capabilities'>,
  settings: ChannelNsfwSettings,
  ageRestricted: boolean,
  vouched: readonly string[],
): string | undefined {
  if (model.capabilities.safetyChecker || vouched.includes(model.name)) return undefined;
  if (uncheckedModelsRule(settings, ageRestricted) !== 'not-allowed') return undefined;
  return `${model.name} has no safety checker, and this channel is not age-restricted: a moderator can allow such models here with /settings set unchecked_models:true.`;
}
