import type { ResolvedRequest, SchedulerName } from '../types.ts';

/** AUTOMATIC1111's sampler names, so its PNG Info tab and other readers recognise ours. */
const A1111_SAMPLER: Readonly<Record<SchedulerName, string>> = {
  ddim: 'DDIM',
  ddpm: 'DDPM',
  pndm: 'PLMS',
  lms: 'LMS',
  euler: 'Euler',
  'euler-a': 'Euler a',
  heun: 'Heun',
  'dpm++2m': 'DPM++ 2M',
  'dpm++2m-karras': 'DPM++ 2M Karras',
  unipc: 'UniPC',
  lcm: 'LCM',
};

/** Fields are comma-separated `Key: value`; quote values that would break that syntax, as A1111 does. */
function quoteIfNeeded(value: string): string {
  return /[,:\n"]/.test(value) ? JSON.stringify(value) : value;
}

/**
 * The `parameters` text AUTOMATIC1111 embeds in its PNGs:
 *   prompt
 *   Negative prompt: …
 *   Steps: 25, Sampler: Euler a, CFG scale: 7.5, Seed: 1, Size: 512x512, Model: …
 */
export function formatParameters(request: ResolvedRequest, modelName: string, extra: Record<string, string | number> = {}): string {
  const lines = [request.prompt];
  if (request.negativePrompt) lines.push(`Negative prompt: ${request.negativePrompt}`);
  const fields: [string, string | number][] = [
    ['Steps', request.steps],
    ['Sampler', A1111_SAMPLER[request.scheduler]],
    ['CFG scale', request.guidance],
    ['Seed', request.seed],
    ['Size', `${request.width}x${request.height}`],
    ['Model', quoteIfNeeded(modelName)],
  ];
  if (request.count > 1) fields.push(['Batch size', request.count]);
  for (const [key, value] of Object.entries(extra)) fields.push([key, typeof value === 'string' ? quoteIfNeeded(value) : value]);
  lines.push(fields.map(([key, value]) => `${key}: ${value}`).join(', '));
  return lines.join('\n');
}

export interface ParsedParameters {
  prompt: string;
  negativePrompt: string;
  fields: Record<string, string>;
}

/** Reads the format back (the inverse of `formatParameters`, and tolerant of A1111's own output). */
export function parseParameters(text: string): ParsedParameters {
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  const fields: Record<string, string> = {};
  const pattern = /\s*([\w ]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;
  for (const match of last.matchAll(pattern)) {
    const raw = match[2]!.trim();
    fields[match[1]!.trim()] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  }
  const negativeIndex = lines.findIndex((line) => line.startsWith('Negative prompt: '));
  const promptLines = negativeIndex >= 0 ? lines.slice(0, negativeIndex) : lines;
  const negativeLines = negativeIndex >= 0 ? lines.slice(negativeIndex) : [];
  return {
    prompt: promptLines.join('\n'),
    negativePrompt: negativeLines.join('\n').replace(/^Negative prompt: /, ''),
    fields,
  };
}
