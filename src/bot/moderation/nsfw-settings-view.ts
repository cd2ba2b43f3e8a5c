import type { ServedModel } from '../models/served-models.ts';
import type { ServerSettings } from '../settings/server-settings.ts';
import { effectivePolicy, uncheckedModelsRule, type ChannelNsfwSettings } from './nsfw-policy.ts';

/** What /settings show needs to say about flagged images besides the channel's own settings. */
export interface NsfwSettingsView {
  ageRestricted: boolean;
  server: ServerSettings;
  models: readonly Pick<ServedModel, 'name' | 'capabilities'>[];
  /** Vouched for by the operator (IMAGINE_SFW_MODELS). */
  sfwModels: readonly string[];
}

const POLICY_WORDS = { block: 'withheld', spoiler: 'sent as spoilers', allow: 'sent as they are' } as const;

/** The /settings show fields about flagged images and models without a safety checker. */
export function nsfwFields(settings: ChannelNsfwSettings, view: NsfwSettingsView): Array<{ name: string; value: string }> {
  const { policy, why } = effectivePolicy(settings, view.ageRestricted);
  const channel = view.ageRestricted ? 'age-restricted channel' : 'channel not age-restricted';
  const reason =
    why === 'default' ? ` (default in a ${channel})` : why === 'allow-needs-age-restriction' ? ' (allow is set, but this channel is not age-restricted)' : '';
  const unchecked = view.models.filter((model) => !model.capabilities.safetyChecker);
  const vouched = unchecked.filter((model) => view.sfwModels.includes(model.name)).map((model) => model.name);
  const others = unchecked.filter((model) => !view.sfwModels.includes(model.name)).map((model) => model.name);
  const rule = uncheckedModelsRule(settings, view.ageRestricted);
  const ruleText =
    rule === 'age-restricted' ? 'allowed (age-restricted channel)' : rule === 'allowed-here' ? 'allowed here by a moderator' : 'not allowed here';
  const modelLines = [
    others.length > 0 ? `${ruleText}: ${others.join(', ')}` : `${ruleText} (every model here has a safety checker)`,
    ...(vouched.length > 0 ? [`always allowed, vouched for by the operator: ${vouched.join(', ')}`] : []),
  ];
  return [
    { name: 'Flagged images', value: `${policy}: ${POLICY_WORDS[policy]}${reason}` },
    { name: 'Models without a safety checker', value: modelLines.join('\n').slice(0, 1024) },
    { name: 'Withheld images by DM', value: view.server.withheldByDm ? 'allowed by this server' : 'not allowed by this server' },
  ];
}
