import { ComponentType, MessageFlags, TextInputStyle, type ButtonInteraction, type Message, type ModalSubmitInteraction } from 'discord.js';
import { LIMITS } from '../../engine/types.ts';
import type { BotContext } from '../context.ts';
import { fetchAttachment } from '../attachments/fetch-attachment.ts';
import { INIT_IMAGE_GONE } from '../attachments/init-image-store.ts';
import { MAX_PROMPT_LENGTH, type BotRequest } from '../jobs/imagine-request.ts';
import { checkFromResult, freshSeed, startFromResult, submitFromResult, type RerollOutcome } from '../jobs/reroll.ts';
import type { ResultRecord } from '../results/result-store.ts';
import { commandUserOfInteraction } from '../moderation/command-user.ts';
import { CustomIds } from './custom-ids.ts';
import { replyPrivately } from './interaction-replies.ts';

/** 🎨: close to the image, new details (AIYA and Midjourney vary at about this much). */
export const VARIATION_STRENGTH = 0.6;
/** ⬆️: a "hires fix": the image at twice the size, redrawn only lightly so it keeps its composition. */
export const UPSCALE_STRENGTH = 0.3;

const NO_RECORD = 'I no longer have the settings for this image.';
/** A result picture's file: `imagine-SEED.png` alone, `imagine-SEED-N.png` in a grid; spoilered ones start with SPOILER_. */
const RESULT_IMAGE = /^(?:SPOILER_)?imagine-\d+(?:-(\d+))?\.(?:png|webp)$/;

/** Picture `image` (1-based) of a result as Discord serves it; a withheld one is not there. */
function resultImage(message: Message, image: number) {
  return [...message.attachments.values()].find((attachment) => {
    const match = RESULT_IMAGE.exec(attachment.name);
    return match !== null && Number(match[1] ?? 1) === image;
  });
}

async function followUpPrivately(interaction: ButtonInteraction | ModalSubmitInteraction, content: string): Promise<void> {
  await interaction.followUp({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

/**
 * 🎨 / ⬆️ on one picture of a result: img2img from that picture, downloaded from the URL Discord gives in
 * this interaction, with the same checks as an /imagine attachment.
 */
export async function fromResultImage(interaction: ButtonInteraction, context: BotContext, kind: 'vary' | 'upscale', image: number): Promise<void> {
  const record = await context.results.get(interaction.message.id);
  if (!record) return replyPrivately(interaction, NO_RECORD);
  // The model the result was made with runs the new job, so its capabilities decide.
  const served = (await context.models.list()).find((model) => model.name === record.model);
  if (!served) return replyPrivately(interaction, `${record.model} is no longer served here.`);
  if (!served.capabilities.img2img) return replyPrivately(interaction, `${record.model} cannot start from an image.`);
  const picture = resultImage(interaction.message, image);
  if (!picture) return replyPrivately(interaction, `This result has no image ${image}.`);
  const width = kind === 'upscale' ? record.request.width * 2 : record.request.width;
  const height = kind === 'upscale' ? record.request.height * 2 : record.request.height;
  if (Math.max(width, height) > LIMITS.size.max) {
    return replyPrivately(interaction, `Upscaled, this image would be ${width}×${height}, over the largest size, ${LIMITS.size.max} pixels a side.`);
  }
  // Downloading and storing can outlast Discord's 3 s: acknowledge first, answer refusals as follow-ups.
  await interaction.deferUpdate();
  const { seed, ...rest } = record.request;
  const strength = kind === 'vary' ? VARIATION_STRENGTH : UPSCALE_STRENGTH;
  // img2img runs int(steps × strength) steps: at least one, however few the original had.
  const steps = Math.max(rest.steps, Math.ceil(1 / strength));
  const who = commandUserOfInteraction(interaction);
  const shape = kind === 'vary' ? { ...rest, model: record.model, steps, count: 1, strength, seed: freshSeed(seed) } : { ...rest, model: record.model, steps, count: 1, strength, seed, width, height };
  // The channel's rules first: a member who may not do this here costs no download.
  const admitted = await checkFromResult(context, record, who, shape);
  if (!admitted.ok) return followUpPrivately(interaction, admitted.message);
  const fetched = await fetchAttachment(
    { url: picture.url, filename: picture.name, size: picture.size, contentType: picture.contentType, width: picture.width, height: picture.height },
    context.attachmentLimits,
  );
  if (!fetched.ok) return followUpPrivately(interaction, fetched.message);
  let initImageId: string;
  try {
    initImageId = await context.images.keep(fetched.data);
  } catch (error) {
    context.logger.error({ err: error }, 'could not keep a result image to start from');
    return followUpPrivately(interaction, 'I cannot store the image to start from right now. Please try again later.');
  }
  const userId = who.userId;
  const request: BotRequest = { ...shape, initImageId };
  const headline = kind === 'vary' ? `🎨 <@${userId}> asked for a variation of image ${image}.` : `⬆️ <@${userId}> upscaled image ${image} to ${width}×${height}.`;
  // Checked above, before the download: not again (another permission request, store reads, model list).
  const outcome = await submitFromResult(context, record, who, request, headline, admitted.safety);
  if (!outcome.ok) await followUpPrivately(interaction, outcome.message);
}

/** ✏️: a modal with the result's prompt and negative prompt, to change and run again. */
export async function openEditModal(interaction: ButtonInteraction, context: BotContext): Promise<void> {
  const record = await context.results.get(interaction.message.id);
  if (!record) return replyPrivately(interaction, NO_RECORD);
  const input = (customId: string, label: string, value: string | undefined, required: boolean, style: TextInputStyle) => ({
    type: ComponentType.ActionRow as const,
    components: [
      {
        type: ComponentType.TextInput as const,
        custom_id: customId,
        label,
        style,
        required,
        max_length: MAX_PROMPT_LENGTH,
        ...(value ? { value: value.slice(0, MAX_PROMPT_LENGTH) } : {}),
      },
    ],
  });
  await interaction.showModal({
    custom_id: CustomIds.editModal(interaction.message.id),
    title: 'Edit and run again',
    components: [
      input('prompt', 'Prompt', record.request.prompt, true, TextInputStyle.Paragraph),
      input('negative', 'Negative prompt', record.request.negativePrompt, false, TextInputStyle.Paragraph),
    ],
  });
}

/** The edit modal's submission: the same job with the edited prompts (and its seed, so only the words change it). */
export async function submitEdit(interaction: ModalSubmitInteraction, context: BotContext, messageId: string): Promise<void> {
  const record: ResultRecord | undefined = await context.results.get(messageId);
  if (!record) return replyPrivately(interaction, NO_RECORD);
  const prompt = interaction.fields.getTextInputValue('prompt').trim();
  const negative = interaction.fields.getTextInputValue('negative').trim();
  if (prompt === '') return replyPrivately(interaction, 'The prompt is empty: describe the image you want.');
  if (record.request.strength !== undefined && record.initImageId === undefined) return replyPrivately(interaction, INIT_IMAGE_GONE);
  const { negativePrompt: _previous, ...rest } = record.request;
  const request: BotRequest = {
    ...rest,
    model: record.model,
    prompt,
    ...(negative ? { negativePrompt: negative } : {}),
    ...(record.initImageId ? { initImageId: record.initImageId } : {}),
  };
  await interaction.deferUpdate();
  const outcome: RerollOutcome = await startFromResult(context, record, commandUserOfInteraction(interaction), request, `✏️ <@${interaction.user.id}> edited this.`);
  if (!outcome.ok) await followUpPrivately(interaction, outcome.message);
}
