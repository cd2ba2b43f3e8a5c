import type { GenerateResult } from '../../engine/types.ts';
import type { Job } from '../jobs/job.ts';
import type { ResultOutbox } from '../results/result-outbox.ts';
import type { OutgoingMessage } from './discord-messenger.ts';
import { resultAttachments } from './images.ts';
import { resultRows } from './job-messages.ts';
import { resultContent } from './prompt-notice.ts';
import { buildResultEmbed } from './result-embed.ts';

/**
 * Keeps a finished job's images for their owner before the first delivery attempt, so that
 * whatever happens to the delivery the image is not lost. A failure to keep is logged, not thrown:
 * delivering is still worth trying. Shared by the embedded job service and the distributed worker.
 */
export async function keepForOwner(outbox: ResultOutbox, job: Job, result: GenerateResult): Promise<void> {
  const entry = { jobId: job.id, ownerId: job.userId, guildId: job.guildId, channelId: job.channelId, prompt: result.request.prompt, seed: result.request.seed, createdAt: Date.now() };
  await outbox
    .keep(
      entry,
      result.images.map((image) => image.png),
    )
    .catch((error: unknown) => job.log.error({ err: error }, 'could not keep the image before delivering it'));
}

/** The final message for a finished job, built for a given upload limit (delivery retries smaller). */
export function resultMessageBuilder(
  job: Job,
  result: GenerateResult,
  shown: { model: string; elapsedMs: number; img2img: boolean },
): (limitBytes: number) => Promise<OutgoingMessage> {
  const pngs = result.images.map((image) => image.png);
  const parentUrl = job.parentMessageId && job.guildId ? `https://discord.com/channels/${job.guildId}/${job.channelId}/${job.parentMessageId}` : undefined;
  return async (limitBytes) => {
    const { files, shownImage } = await resultAttachments(pngs, `imagine-${result.request.seed}`, limitBytes);
    const embed = buildResultEmbed({
      request: result.request,
      model: shown.model,
      elapsedMs: shown.elapsedMs,
      jobId: job.id,
      ...(shownImage ? { imageName: shownImage } : {}),
      ...(parentUrl ? { parentUrl } : {}),
    });
    return { content: resultContent(job.userId, result), embeds: [embed], files, components: resultRows({ count: pngs.length, img2img: shown.img2img }) };
  };
}
