import type { GenerateResult } from '../../engine/types.ts';
import type { SafetyHandling } from '../moderation/nsfw-policy.ts';
import type { ShownPicture } from './images.ts';

/** A job's pictures sorted by what the channel's NSFW policy does with them. */
export interface PicturePlan {
  /** Sent, spoilered where flagged under `spoiler`. */
  shown: ShownPicture[];
  /** Flagged under `block`: not posted. */
  withheld: Array<{ png: Buffer; number: number }>;
  count: number;
}

/** Applies the job's handling to the safety checker's per-image verdicts (no verdict: nothing flagged). */
export function planPictures(result: Pick<GenerateResult, 'images'>, safety: SafetyHandling): PicturePlan {
  const shown: ShownPicture[] = [];
  const withheld: PicturePlan['withheld'] = [];
  result.images.forEach((image, index) => {
    const number = index + 1;
    const flagged = image.nsfw === true;
    if (flagged && safety.flagged === 'block') withheld.push({ png: image.png, number });
    else shown.push({ png: image.png, number, spoiler: flagged && safety.flagged === 'spoiler' });
  });
  return { shown, withheld, count: result.images.length };
}

/** What the result message says about flagged pictures; undefined when none was flagged. */
export function flaggedNotice(plan: PicturePlan, safety: SafetyHandling): string | undefined {
  const spoilered = plan.shown.filter((picture) => picture.spoiler).map((picture) => picture.number);
  const lines: string[] = [];
  const which = (numbers: number[]) => (plan.count === 1 ? 'This image' : numbers.length === 1 ? `Image ${numbers[0]}` : `Images ${numbers.join(', ')}`);
  if (plan.withheld.length > 0) {
    const numbers = plan.withheld.map((picture) => picture.number);
    const verb = numbers.length === 1 ? 'was' : 'were';
    const dm = safety.dmWithheld ? ' Press 📩 to get it by DM.' : '';
    lines.push(`🚫 ${which(numbers)} ${verb} withheld: the safety checker flagged ${numbers.length === 1 ? 'it' : 'them'}, and this channel does not post flagged images.${dm}`);
  }
  if (spoilered.length > 0) {
    const verb = spoilered.length === 1 ? 'is' : 'are';
    lines.push(`⚠️ ${which(spoilered)} ${verb} behind a spoiler: the safety checker flagged ${spoilered.length === 1 ? 'it' : 'them'}.`);
  }
  return lines.length > 0 ? lines.join('\n') : undefined;
}
