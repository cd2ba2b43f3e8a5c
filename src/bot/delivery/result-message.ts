import { ButtonStyle, ComponentType } from 'discord.js';
import type { GenerateResult } from '../../engine/types.ts';
import { safetyOf, type Job } from '../jobs/job.ts';
import type { ResultOutbox } from '../results/result-outbox.ts';
import { CustomIds } from '../interactions/custom-ids.ts';
import type { OutgoingMessage } from './discord-messenger.ts';
import { flaggedNotice, planPictures } from './flagged-images.ts';
import { pictureAttachments } from './images.ts';
import { resultRows } from './job-messages.ts';
import { resultContent } from './prompt-notice.ts';
import { buildResultEmbed } from './result-embed.ts';

/**
 * Keeps a finished job's images for their owner before the first delivery attempt, so that
 * whatever happens to the delivery the image is not lost. A failure to keep is logged, not thrown:
 * delivering is still worth trying. Shared by the embedded job service and the distributed worker.
 * Pictures the channel withholds are kept apart, and only where the server lets owners have them by DM;
 * otherwise they are not kept at all, so that no other route (/imagine-history's 📥) can show them.
 */
export async function keepForOwner(outbox: ResultOutbox, job: Job, result: GenerateResult): Promise<void> {
  const safety = safetyOf(job);
  const plan = planPictures(result, safety);
  const entry = { jobId: job.id, ownerId: job.userId, guildId: job.guildId, channelId: job.channelId, prompt: result.request.prompt, seed: result.request.seed, createdAt: Date.now() };
  const withheld = safety.dmWithheld ? plan.withheld.map((picture) => picture.png) : [];
  await outbox
    .keep(
      entry,
      plan.shown.map((picture) => picture.png),
      withheld,
    )
    .catch((error: unknown) => job.log.error({ err: error }, 'could not keep the image before delivering it'));
}

/** The final message for a finished job, built for a given upload limit (delivery retries smaller). */
export function resultMessageBuilder(
  job: Job,
  result: GenerateResult,
  shown: { model: string; elapsedMs: number; img2img: boolean },
): (limitBytes: number) => Promise<OutgoingMessage> {
  const safety = safetyOf(job);
  const plan = planPictures(result, safety);
  if (plan.withheld.length > 0) job.log.info({ withheld: plan.withheld.map((picture) => picture.number), dmWithheld: safety.dmWithheld }, 'flagged images withheld');
  const parentUrl = job.parentMessageId && job.guildId ? `https://discord.com/channels/${job.guildId}/${job.channelId}/${job.parentMessageId}` : undefined;
  const notice = flaggedNotice(plan, safety);
  const content = resultContent(job.userId, result) + (notice ? `\n${notice}` : '');
  const dmRow =
    plan.withheld.length > 0 && safety.dmWithheld
      ? [
          {
            type: ComponentType.ActionRow as const,
            components: [{ type: ComponentType.Button as const, style: ButtonStyle.Secondary as const, custom_id: CustomIds.withheld(job.id), label: 'Send me by DM', emoji: { name: '📩' } }],
          },
        ]
      : [];
  return async (limitBytes) => {
    const { files, shownImage } = await pictureAttachments(plan.shown, plan.count, `imagine-${result.request.seed}`, limitBytes);
    const embed = buildResultEmbed({
      request: result.request,
      model: shown.model,
      elapsedMs: shown.elapsedMs,
      jobId: job.id,
      ...(shownImage ? { imageName: shownImage } : {}),
      ...(parentUrl ? { parentUrl } : {}),
    });
    const numbers = plan.shown.map((picture) => picture.number);
    return { content, embeds: [embed], files, components: [...resultRows({ count: plan.count, img2img: shown.img2img, numbers }), ...dmRow] };
  };
}
