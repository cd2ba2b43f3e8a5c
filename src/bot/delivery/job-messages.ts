import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponentWithCustomId, type APIComponentInMessageActionRow } from 'discord.js';
import type { GenerationProgress } from '../../engine/types.ts';
import { CustomIds, REROLL_EMOJI } from '../interactions/custom-ids.ts';
import type { OutgoingFile, OutgoingMessage } from './discord-messenger.ts';
import type { CancelReason, Job } from '../jobs/job.ts';
import { formatDuration, truncate } from './result-embed.ts';

type ActionRow = APIActionRowComponent<APIComponentInMessageActionRow>;

const PROMPT_EXCERPT = 120;

export function promptExcerpt(prompt: string, max = PROMPT_EXCERPT): string {
  return truncate(prompt.replace(/\s+/g, ' '), max);
}

function cancelRow(jobId: string): ActionRow {
  return {
    type: ComponentType.ActionRow,
    components: [{ type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: CustomIds.cancel(jobId), label: 'Cancel', emoji: { name: '❌' } }],
  };
}

const button = (custom_id: string, label: string, emoji?: string, style: ButtonStyle.Primary | ButtonStyle.Secondary = ButtonStyle.Secondary): APIButtonComponentWithCustomId => ({
  type: ComponentType.Button,
  style,
  custom_id,
  label,
  ...(emoji ? { emoji: { name: emoji } } : {}),
});

/**
 * A result's buttons: reroll, edit and delete, and, where the model can start from an image, variations
 * and upscale — on the image itself for one image, else one V/U button per image (as Midjourney's V1–V4,
 * U1–U4). `numbers` are the pictures posted (a withheld one gets no buttons); all of them by default.
 */
export function resultRows(options: { count: number; img2img: boolean; numbers?: readonly number[] } = { count: 1, img2img: false }): ActionRow[] {
  const images = options.numbers ?? Array.from({ length: options.count }, (_, index) => index + 1);
  const single = options.img2img && options.count === 1 && images.includes(1);
  const main: ActionRow = {
    type: ComponentType.ActionRow,
    components: [
      button(CustomIds.reroll, 'Reroll', REROLL_EMOJI, ButtonStyle.Primary),
      ...(single ? [button(CustomIds.vary(1), 'Variations', '🎨'), button(CustomIds.upscale(1), 'Upscale 2×', '⬆️')] : []),
      button(CustomIds.edit, 'Edit', '✏️'),
      button(CustomIds.delete, 'Delete', '❌'),
    ],
  };
  if (!options.img2img || options.count === 1 || images.length === 0) return [main];
  const perImage = (make: (image: number) => string, letter: string): ActionRow => ({
    type: ComponentType.ActionRow,
    components: images.map((image) => button(make(image), `${letter}${image}`)),
  });
  return [main, perImage(CustomIds.upscale, 'U'), perImage(CustomIds.vary, 'V')];
}

export const RESUMED_NOTE = '↻ Resumed after a restart.';

const quote = (job: Job) => `> ${promptExcerpt(job.request.prompt)}${job.resumed ? `\n${RESUMED_NOTE}` : ''}`;

export function queuedMessage(job: Job, position: number): OutgoingMessage {
  const place = position === 1 ? 'next in line' : `position ${position} in the queue`;
  return { content: `⏳ Queued — ${place}.\n${quote(job)}`, components: [cancelRow(job.id)] };
}

export function startingMessage(job: Job): OutgoingMessage {
  return { content: `🎨 Starting…\n${quote(job)}`, components: [cancelRow(job.id)] };
}

/** Time left, extrapolated from the average step so far. */
export function estimateRemainingMs(progress: Pick<GenerationProgress, 'step' | 'totalSteps' | 'elapsedMs'>): number {
  if (progress.step <= 0) return 0;
  return (progress.elapsedMs / progress.step) * Math.max(0, progress.totalSteps - progress.step);
}

export function progressMessage(job: Job, progress: GenerationProgress, preview: OutgoingFile | undefined): OutgoingMessage {
  const eta = formatDuration(estimateRemainingMs(progress));
  return {
    content: `🎨 Generating — step ${progress.step}/${progress.totalSteps} · about ${eta} left\n${quote(job)}`,
    components: [cancelRow(job.id)],
    ...(preview ? { files: [preview] } : {}),
  };
}

export function cancelledMessage(job: Job, reason: CancelReason | undefined): OutgoingMessage {
  const why =
    reason?.kind === 'shutdown'
      ? 'the bot is shutting down. Please try again in a moment.'
      : reason?.kind === 'user'
        ? `by <@${reason.userId}>.`
        : 'before it finished.';
  return { content: `❌ Cancelled — ${why}\n${quote(job)}` };
}

export function failedMessage(job: Job, userSafeReason: string | undefined): OutgoingMessage {
  const detail = userSafeReason ?? 'Something went wrong.';
  return { content: `⚠️ ${detail} (job id \`${job.id}\`)\n${quote(job)}` };
}
