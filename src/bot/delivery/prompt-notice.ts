import type { GenerateResult } from '../../engine/types.ts';
import { truncate } from './result-embed.ts';

/** Keeps the notice well inside a message's 2,000 characters whatever the prompt's length. */
const MAX_QUOTED = 400;

/**
 * Tells the member which words the model never read: CLIP text encoders stop at 77 tokens and the
 * rest of a prompt is cut, as diffusers cuts it. Undefined when everything fit.
 */
export function droppedWordsNotice(dropped: GenerateResult['dropped']): string | undefined {
  if (!dropped) return undefined;
  const lines = [`⚠️ The model reads at most ${dropped.maxTokens} tokens, so these words were dropped:`];
  if (dropped.prompt) lines.push(`> prompt: “${truncate(dropped.prompt, MAX_QUOTED)}”`);
  if (dropped.negativePrompt) lines.push(`> negative: “${truncate(dropped.negativePrompt, MAX_QUOTED)}”`);
  return lines.join('\n');
}

/** The result message's text: the owner's mention, then the notice if any. */
export function resultContent(userId: string, result: Pick<GenerateResult, 'dropped'>): string {
  const notice = droppedWordsNotice(result.dropped);
  return notice ? `<@${userId}>\n${notice}` : `<@${userId}>`;
}
