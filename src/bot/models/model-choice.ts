import type { ChannelSettings } from '../settings/channel-settings.ts';
import { promptModels, type ServedModel } from './served-models.ts';

export type ModelChoice = { ok: true; model: ServedModel } | { ok: false; message: string };

export interface ModelOffer {
  models: readonly ServedModel[];
  defaultModel: string;
}

/** The models /imagine may use in a channel: text-to-image models, within the channel's allow-list if it has one. */
export function allowedModels(models: readonly ServedModel[], settings: Pick<ChannelSettings, 'allowedModels'>): ServedModel[] {
  const usable = promptModels(models);
  const list = settings.allowedModels;
  return list === undefined ? usable : usable.filter((model) => list.includes(model.name));
}

const names = (models: readonly ServedModel[]) => models.map((model) => model.name).join(', ');

/**
 * The model a job runs on: the member's explicit choice (refused when it is not allowed here), else
 * their preference, the channel's default and the bot's default, whichever is the first allowed here.
 */
export function chooseModel(
  explicit: string | undefined,
  preferred: string | undefined,
  settings: Pick<ChannelSettings, 'allowedModels' | 'model'>,
  offer: ModelOffer,
): ModelChoice {
  const allowed = allowedModels(offer.models, settings);
  if (explicit !== undefined) {
    const model = offer.models.find((candidate) => candidate.name === explicit);
    if (!model) return { ok: false, message: `There is no model “${explicit}”. Models here: ${names(allowed) || 'none'}.` };
    if (!model.capabilities.textToImage) return { ok: false, message: `${model.name} draws without a prompt, so /imagine cannot use it.` };
    if (!allowed.includes(model)) return { ok: false, message: `${model.name} is not allowed in this channel. Models here: ${names(allowed) || 'none'}.` };
    return { ok: true, model };
  }
  for (const name of [preferred, settings.model, offer.defaultModel]) {
    const model = allowed.find((candidate) => candidate.name === name);
    if (model) return { ok: true, model };
  }
  const first = allowed[0];
  return first ? { ok: true, model: first } : { ok: false, message: 'No model this bot serves is allowed in this channel.' };
}
