/**
 * The parts a folder may ship beside its family's required ones, opened when present: the VAE
 * encoder (img2img) and the safety checker with its CLIP feature-extractor config. They are the same
 * for every latent family, so they are assembled here rather than in each family.
 */
import type { ModelFolder } from '../model/model-folder.ts';
import { OnnxSafetyChecker } from '../safety/onnx-safety-checker.ts';
import { readClipPreprocessConfig } from '../safety/clip-preprocess.ts';
import type { SessionSet } from './families/index.ts';
import { VaeEncoder } from './stages/img2img-start.ts';
import type { SafetyChecker } from './stages/safety-check.ts';

export interface OptionalParts {
  initImageEncoder?: VaeEncoder;
  safetyChecker?: SafetyChecker;
}

/** The ONNX files of the optional parts this folder has, to open with the family's own. */
export function optionalPartPaths(folder: ModelFolder): string[] {
  const paths: string[] = [];
  if (folder.hasVaeEncoder) paths.push(folder.vaeEncoderPath);
  if (folder.hasSafetyChecker) paths.push(folder.safetyCheckerPath);
  return paths;
}

/** Reads the optional parts' sessions and configs; a broken one fails the load, naming its file. */
export async function assembleOptionalParts(folder: ModelFolder, sessions: SessionSet): Promise<OptionalParts> {
  const parts: OptionalParts = {};
  if (folder.hasVaeEncoder) {
    parts.initImageEncoder = VaeEncoder.describe(folder.vaeEncoderPath, sessions.get(folder.vaeEncoderPath), folder.scalingFactor);
  }
  if (folder.hasSafetyChecker) {
    const preprocess = await readClipPreprocessConfig(folder.featureExtractorConfigPath);
    parts.safetyChecker = OnnxSafetyChecker.describe(folder.safetyCheckerPath, sessions.get(folder.safetyCheckerPath), preprocess);
  }
  return parts;
}
