/**
 * The SD 1.x safety checker as diffusers' ONNX pipeline runs it (`safety_checker/model.onnx`): per
 * image, the CLIP-preprocessed pixels as `clip_input` and the image itself as `images` (NHWC floats in
 * [0, 1]), reading `has_nsfw_concepts`. Only the flag is used: the engine never alters an image, the
 * caller decides what a flagged one means.
 */
import type * as ort from 'onnxruntime-node';
import { ModelFileError } from '../model/files.ts';
import { fixedDim, requireTensor } from '../model/onnx-session.ts';
import { runSession } from '../pipeline/run-session.ts';
import { floatTensor } from '../pipeline/tensors.ts';
import { FLOAT_TYPES, type FloatType } from '../pipeline/unet.ts';
import type { SafetyChecker } from '../pipeline/stages/safety-check.ts';
import type { RgbImage } from '../types.ts';
import { clipPixels, type ClipPreprocessConfig } from './clip-preprocess.ts';

export class OnnxSafetyChecker implements SafetyChecker {
  private constructor(
    private readonly path: string,
    private readonly session: ort.InferenceSession,
    private readonly clipInput: { name: string; type: FloatType },
    private readonly imagesInput: { name: string; type: FloatType },
    private readonly flagOutput: string,
    private readonly preprocess: ClipPreprocessConfig,
  ) {}

  /** Reads the checker's inputs and output; refuses, naming the file, one that does not fit the preprocessing config. */
  static describe(path: string, session: ort.InferenceSession, preprocess: ClipPreprocessConfig): OnnxSafetyChecker {
    const clip = requireTensor(path, session.inputMetadata, 'input', { names: ['clip_input'], types: [...FLOAT_TYPES], ranks: [4] });
    const images = requireTensor(path, session.inputMetadata, 'input', { names: ['images'], types: [...FLOAT_TYPES], ranks: [4] });
    const flags = requireTensor(path, session.outputMetadata, 'output', { names: ['has_nsfw_concepts'], types: ['bool'], ranks: [1] });
    const height = fixedDim(clip, 2);
    const width = fixedDim(clip, 3);
    if ((height !== undefined && height !== preprocess.cropHeight) || (width !== undefined && width !== preprocess.cropWidth)) {
      throw new ModelFileError(
        path,
        `clip_input is ${height ?? '?'}×${width ?? '?'} but feature_extractor/preprocessor_config.json crops to ${preprocess.cropHeight}×${preprocess.cropWidth}`,
      );
    }
    return new OnnxSafetyChecker(
      path,
      session,
      { name: clip.name, type: clip.type as FloatType },
      { name: images.name, type: images.type as FloatType },
      flags.name,
      preprocess,
    );
  }

  /** One flag per image, in order; one checker run per image, as diffusers' ONNX pipeline does. */
  async check(images: readonly RgbImage[]): Promise<boolean[]> {
    const flags: boolean[] = [];
    for (const image of images) {
      const clip = clipPixels(image, this.preprocess);
      const pixels = new Float32Array(image.data.length);
      for (let i = 0; i < pixels.length; i++) pixels[i] = image.data[i]! / 255;
      const output = await runSession(
        this.session,
        {
          [this.clipInput.name]: floatTensor(this.clipInput.type, clip, [1, 3, this.preprocess.cropHeight, this.preprocess.cropWidth]),
          [this.imagesInput.name]: floatTensor(this.imagesInput.type, pixels, [1, image.height, image.width, 3]),
        },
        'safety_checker',
        [this.flagOutput],
      );
      const tensor = output[this.flagOutput];
      const value = tensor?.data[0];
      if (tensor === undefined || value === undefined) throw new ModelFileError(this.path, `returned no ${this.flagOutput} value`);
      flags.push(Boolean(value));
    }
    return flags;
  }
}
