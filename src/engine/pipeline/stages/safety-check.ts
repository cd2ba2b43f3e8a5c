import type { RgbImage } from '../../types.ts';

/**
 * The safety-check stage's slot: a checker run on the decoded images, reporting one flag per image.
 * The engine never alters a flagged image; the caller decides what to do with it.
 */
export interface SafetyChecker {
  check(images: readonly RgbImage[]): Promise<boolean[]>;
}
