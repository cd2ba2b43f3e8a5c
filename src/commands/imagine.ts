import { InteractionContextType, SlashCommandBuilder, type Attachment, type AutocompleteInteraction, type ChatInputCommandInteraction } from 'discord.js';
import { SCHEDULER_NAMES } from '../engine/schedulers/scheduler.ts';
import { LIMITS } from '../engine/types.ts';
import type { ChannelSettings } from '../bot/settings/channel-settings.ts';
import type { BotContext, SlashCommand } from '../bot/context.ts';
import { MAX_PROMPT_LENGTH, resolveImagineRequest, STRENGTH_LIMITS, type ImagineOptions, type RequestCheck, type RequestContext } from '../bot/jobs/imagine-request.ts';
import { checkAttachment, fetchAttachment, type AttachmentRef } from '../bot/attachments/fetch-attachment.ts';
import { admissionRefusal, QUEUE_UNAVAILABLE, replyPrivately } from '../bot/interactions/interaction-replies.ts';
import { newJobId, type Job } from '../bot/jobs/job.ts';
import { InteractionReply } from '../bot/delivery/reply-target.ts';
import { SIZE_NAMES } from '../bot/jobs/sizes.ts';
import { StoreError } from '../bot/settings/key-value-store.ts';
import { settingsChannelIdOf } from '../bot/moderation/settings-scope.ts';
import { checkSafety } from '../bot/moderation/safety-check.ts';

export const DMS_REFUSED = 'I only make images in servers: the operator of this bot has not turned on /imagine in DMs.';
import type { UserPrefs } from '../bot/settings/user-prefs.ts';
import { suggestModels } from '../bot/interactions/model-autocomplete.ts';

export const SETTINGS_UNAVAILABLE = "I cannot read this channel's settings right now, so I am not taking jobs here. Please try again later.";

/** Past this, acknowledge first and validate after: Discord drops interactions not answered in 3 s. */
const SETTINGS_LOOKUP_BUDGET_MS = 1500;

const SIZE_LABELS = { square: 'square', portrait: 'portrait (tall)', landscape: 'landscape (wide)' } as const;

const data = new SlashCommandBuilder()
  .setName('imagine')
  .setDescription('Generate an image from a text prompt')
  // Offered in DMs too, so that a member who tries gets a clear answer; IMAGINE_ALLOW_DMS decides.
  .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
  .addStringOption((option) =>
    option.setName('prompt').setDescription('What to draw').setRequired(true).setMaxLength(MAX_PROMPT_LENGTH),
  )
  .addStringOption((option) =>
    option.setName('negative').setDescription('What to keep out of the image').setMaxLength(MAX_PROMPT_LENGTH),
  )
  .addIntegerOption((option) =>
    option.setName('seed').setDescription('Seed for a reproducible image (random if omitted)').setMinValue(LIMITS.seed.min).setMaxValue(LIMITS.seed.max),
  )
  .addIntegerOption((option) =>
    option.setName('steps').setDescription('Denoising steps: more is slower and finer').setMinValue(LIMITS.steps.min).setMaxValue(LIMITS.steps.max),
  )
  .addNumberOption((option) =>
    option.setName('guidance').setDescription('How closely to follow the prompt').setMinValue(LIMITS.guidance.min).setMaxValue(LIMITS.guidance.max),
  )
  .addStringOption((option) =>
    option
      .setName('size')
      .setDescription("Shape, from the model's native size (SD 512 → 512×768; SDXL 1024 → 896×1152)")
      .addChoices(...SIZE_NAMES.map((size) => ({ name: SIZE_LABELS[size], value: size }))),
  )
  .addStringOption((option) =>
    option
      .setName('scheduler')
      .setDescription('Sampling method')
      .addChoices(...SCHEDULER_NAMES.map((name) => ({ name, value: name }))),
  )
  .addAttachmentOption((option) => option.setName('image').setDescription('A PNG, JPEG or WebP image to start from (img2img)'))
  .addNumberOption((option) =>
    option
      .setName('strength')
      .setDescription('With image: how far to move away from it (0.05 keeps it, 1 redraws it)')
      .setMinValue(STRENGTH_LIMITS.min)
      .setMaxValue(STRENGTH_LIMITS.max),
  )
  .addIntegerOption((option) =>
    option.setName('count').setDescription('How many images').setMinValue(LIMITS.count.min).setMaxValue(LIMITS.count.max),
  )
  .addStringOption((option) => option.setName('model').setDescription('Which model draws it').setAutocomplete(true))
  .toJSON();

function readOptions(interaction: ChatInputCommandInteraction): ImagineOptions {
  const options = interaction.options;
  const image = options.getAttachment('image');
  return {
    strength: options.getNumber('strength') ?? undefined,
    // Discord's own figures for now; the downloaded image's replace them before the job is made.
    image: image ? { width: image.width ?? 1, height: image.height ?? 1 } : undefined,
    prompt: options.getString('prompt', true),
    negative: options.getString('negative') ?? undefined,
    seed: options.getInteger('seed') ?? undefined,
    steps: options.getInteger('steps') ?? undefined,
    guidance: options.getNumber('guidance') ?? undefined,
    size: options.getString('size') ?? undefined,
    scheduler: options.getString('scheduler') ?? undefined,
    count: options.getInteger('count') ?? undefined,
    model: options.getString('model') ?? undefined,
  };
}

interface Lookups {
  settings: ChannelSettings;
  prefs: UserPrefs;
}

/** The channel's settings and the member's prefs, or undefined if the store is too slow to answer before we must acknowledge. */
async function settingsWithinBudget(lookup: Promise<Lookups>): Promise<Lookups | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), SETTINGS_LOOKUP_BUDGET_MS)));
  try {
    return await Promise.race([lookup, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function execute(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  const receivedAt = Date.now();
  const channelId = interaction.channelId;
  const options = readOptions(interaction);
  if (interaction.guildId === null && !context.moderation.allowDms) return replyPrivately(interaction, DMS_REFUSED);
  // Checked first: with the shared queue down, nothing else (settings included) can be relied on.
  if (!context.jobs.available()) return replyPrivately(interaction, QUEUE_UNAVAILABLE);

  // Refusals are checked before acknowledging where possible, so that they can be plain ephemeral replies.
  // A thread or forum post follows its parent channel's settings.
  const lookup = Promise.all([context.settings.get(settingsChannelIdOf(interaction.channel, channelId)), context.prefs.get(interaction.user.id)]).then(
    ([settings, prefs]) => ({ settings, prefs }),
  );
  let looked: Lookups | undefined;
  try {
    looked = await settingsWithinBudget(lookup);
    if (looked === undefined) {
      await interaction.deferReply();
      looked = await lookup;
    }
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    // Fail closed: without the channel's settings we cannot know it is enabled or what it bans.
    const incidentId = newJobId();
    context.logger.error({ err: error, incidentId, channelId }, 'channel settings unreadable; job refused');
    return replyPrivately(interaction, `${SETTINGS_UNAVAILABLE} (id \`${incidentId}\`)`);
  }
  const models = await context.models.list();
  const requestContext: RequestContext = { models, defaultModel: context.models.defaultModel, prefs: looked.prefs };
  const attachment = interaction.options.getAttachment('image');
  const ref = attachment ? attachmentRef(attachment) : undefined;
  // Refuses an image for a model that cannot start from one (the chosen model's capabilities).
  const check = resolveImagineRequest(options, looked.settings, requestContext);
  if (!check.ok) return replyPrivately(interaction, check.message);
  if (ref) {
    const attached = checkAttachment(ref, context.attachmentLimits);
    if (!attached.ok) return replyPrivately(interaction, attached.message);
  }
  let request = check.request;
  const chosen = models.find((model) => model.name === request.model);
  const safe = chosen
    ? await checkSafety(context, { guildId: interaction.guildId, channelId }, looked.settings, chosen)
    : ({ ok: false, message: `There is no model “${request.model}”.` } as const);
  if (!safe.ok) return replyPrivately(interaction, safe.message);
  const place = await context.jobs.reserve(interaction.user.id);
  if (!place.accepted) return replyPrivately(interaction, admissionRefusal(place));

  if (!interaction.deferred) {
    try {
      await interaction.deferReply();
    } catch (error) {
      place.reservation.release();
      throw error;
    }
  }

  const jobId = newJobId();
  const log = context.logger.child({ jobId });
  if (ref) {
    const started = await keepStartingImage(context, ref, options, looked.settings, requestContext);
    if (!started.ok) {
      place.reservation.release();
      log.info({ reason: started.message, url: ref.url }, 'attachment refused');
      return replyPrivately(interaction, started.message);
    }
    request = started.request;
  }
  const job: Job = {
    id: jobId,
    userId: interaction.user.id,
    guildId: interaction.guildId,
    channelId,
    request,
    safety: safe.safety,
    reply: new InteractionReply({
      messenger: context.messenger,
      interactionToken: interaction.token,
      channelId,
      ownerId: interaction.user.id,
      logger: log,
      createdAt: receivedAt,
    }),
    createdAt: receivedAt,
    log,
  };
  const outcome = await context.jobs.submit(job, place.reservation);
  if (!outcome.accepted) await replyPrivately(interaction, admissionRefusal(outcome));
}

const autocomplete = (interaction: AutocompleteInteraction, context: BotContext) => suggestModels(interaction, context, 'channel');

export const imagineCommand: SlashCommand = { name: 'imagine', data, execute, autocomplete };

function attachmentRef(attachment: Attachment): AttachmentRef {
  return {
    url: attachment.url,
    filename: attachment.name,
    size: attachment.size,
    contentType: attachment.contentType,
    width: attachment.width,
    height: attachment.height,
  };
}

/** Downloads the attachment, keeps it for the job (and its rerolls), and settles the request on its real size. */
async function keepStartingImage(
  context: BotContext,
  ref: AttachmentRef,
  options: ImagineOptions,
  settings: ChannelSettings,
  requestContext: RequestContext,
): Promise<RequestCheck> {
  const fetched = await fetchAttachment(ref, context.attachmentLimits);
  if (!fetched.ok) return fetched;
  const check = resolveImagineRequest({ ...options, image: { width: fetched.width, height: fetched.height } }, settings, requestContext);
  if (!check.ok) return check;
  try {
    check.request.initImageId = await context.images.keep(fetched.data);
  } catch (error) {
    context.logger.error({ err: error }, 'could not keep a starting image');
    return { ok: false, message: QUEUE_UNAVAILABLE };
  }
  return check;
}
