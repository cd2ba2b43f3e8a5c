import type { AutocompleteInteraction } from 'discord.js';
import type { BotContext } from '../context.ts';
import { allowedModels } from '../models/model-choice.ts';
import { describeModel, promptModels } from '../models/served-models.ts';

/** Discord shows at most 25 suggestions. */
const MAX_CHOICES = 25;

/**
 * Suggests served models whose name contains what the member typed: in a channel, only those the
 * channel allows (/settings allowed_models); `everywhere` (for /prefs and /settings) lists them all.
 */
export async function suggestModels(interaction: AutocompleteInteraction, context: BotContext, scope: 'channel' | 'everywhere'): Promise<void> {
  const typed = String(interaction.options.getFocused()).trim().toLowerCase();
  const models = await context.models.list();
  let offered = promptModels(models);
  if (scope === 'channel') {
    // An unreadable store offers nothing rather than models the channel may forbid; /imagine says why.
    const settings = await context.settings.get(interaction.channelId).catch(() => undefined);
    offered = settings ? allowedModels(models, settings) : [];
  }
  const choices = offered
    .filter((model) => model.name.toLowerCase().includes(typed))
    .slice(0, MAX_CHOICES)
    .map((model) => ({ name: describeModel(model).slice(0, 100), value: model.name }));
  await interaction.respond(choices);
}
