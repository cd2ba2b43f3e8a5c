import type * as ort from 'onnxruntime-node';
import type { EngineLogger } from '../../logger.ts';
import type { ModelFamily } from '../../model/family.ts';
import type { ModelFolder } from '../../model/model-folder.ts';
import type { ResolvedRequest, RgbImage } from '../../types.ts';
import type { UnetConditioning } from '../conditioning.ts';
import type { LatentShape } from '../latent-shape.ts';
import type { ImageDecoder } from '../stages/decode.ts';
import type { SafetyChecker } from '../stages/safety-check.ts';
import type { UnetPart } from '../unet.ts';
import type { PromptTokenizer } from '../../tokenizer/clip-tokenizer.ts';

/**
 * One family's pipeline, assembled from a model folder's sessions: the stages that differ between
 * families (prompt encoding, decoding, previews). The loop, the scheduler and the seeded noise are
 * shared by all of them (see generate.ts).
 */
export interface FamilyPipeline {
  readonly family: ModelFamily;
  readonly unet: UnetPart;
  /** Channels of the latents the UNet denoises (4 for a VAE's latents, 3 for pixel-space models). */
  readonly latentChannels: number;
  readonly decoder: ImageDecoder;
  /** Filled for folders that ship a safety checker. */
  readonly safetyChecker?: SafetyChecker;
  /** The (first) text encoder's tokenizer, for telling users what of a long prompt was cut; absent for prompt-less models. */
  readonly promptTokenizer?: PromptTokenizer;
  /** The prompt-encoding stage: the UNet's conditioning for this request. */
  encode(request: ResolvedRequest): Promise<UnetConditioning>;
  /** A cheap picture of predicted clean latents (the first image's), at latent resolution. */
  preview(latents: Float32Array, shape: LatentShape): RgbImage;
}

/** The sessions opened for a folder, by file path. */
export interface SessionSet {
  get(path: string): ort.InferenceSession;
}

export interface FamilyContext {
  folder: ModelFolder;
  sessions: SessionSet;
  log: EngineLogger;
}

/** How a family is assembled from its folder: which ONNX files to open, then the pipeline over them. */
export interface FamilyDefinition {
  /** unet/config.json `sample_size` to assume, with a logged warning, when the folder does not say. */
  readonly defaultSampleSize: number;
  sessionPaths(folder: ModelFolder): string[];
  /** Reads each session's inputs and outputs and refuses, naming the file, what the family cannot run. */
  assemble(context: FamilyContext): Promise<FamilyPipeline>;
}
