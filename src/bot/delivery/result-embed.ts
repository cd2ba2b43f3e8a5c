import type { APIEmbed } from 'discord.js';
import type { ResolvedRequest } from '../../engine/types.ts';

export interface ResultEmbedInput {
  request: ResolvedRequest;
  model: string;
  elapsedMs: number;
  jobId: string;
  /** attachment://name of the image shown in the embed. */
  imageName?: string;
  /** Link to the result this one rerolled. */
  parentUrl?: string;
}

const EMBED_TITLE_MAX = 256;
const EMBED_FIELD_MAX = 1024;

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The parameters of a finished image: everything needed to reproduce it. */
export function buildResultEmbed(input: ResultEmbedInput): APIEmbed {
  const { request } = input;
  const fields = [
    { name: 'Prompt', value: truncate(request.prompt, EMBED_FIELD_MAX), inline: false },
    ...(request.negativePrompt ? [{ name: 'Negative', value: truncate(request.negativePrompt, EMBED_FIELD_MAX), inline: false }] : []),
    { name: 'Seed', value: String(request.seed), inline: true },
    { name: 'Steps', value: String(request.steps), inline: true },
    { name: 'Guidance', value: String(request.guidance), inline: true },
    { name: 'Scheduler', value: request.scheduler, inline: true },
    { name: 'Size', value: `${request.width}×${request.height}`, inline: true },
    { name: 'Model', value: input.model, inline: true },
    { name: 'Time', value: formatDuration(input.elapsedMs), inline: true },
  ];
  if (request.count > 1) fields.push({ name: 'Images', value: String(request.count), inline: true });
  if (input.parentUrl) fields.push({ name: 'Reroll of', value: input.parentUrl, inline: false });
  return {
    title: truncate(request.prompt, EMBED_TITLE_MAX),
    fields,
    ...(input.imageName ? { image: { url: `attachment://${input.imageName}` } } : {}),
    footer: { text: `job ${input.jobId} · 🔁 to reroll` },
  };
}
