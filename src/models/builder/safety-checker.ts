import { GraphBuilder, type BuiltGraph } from './graph.ts';

/**
 * A stand-in for SD 1.x's StableDiffusionSafetyChecker in its ONNX export's interface (`clip_input`
 * [b, 3, 224, 224] and `images` [b, H, W, 3] in, `out_images` and `has_nsfw_concepts` out). It flags an
 * image when the mean of its CLIP-normalised pixels exceeds a threshold: a known, checkable rule, so
 * tests can make it flag (a bright image, or a low threshold) or pass at will. out_images passes the
 * images through unchanged.
 */
export function buildSafetyChecker(threshold: number): BuiltGraph {
  const g = new GraphBuilder('safety_checker', 'float32');
  const clip = g.input('clip_input', 'float32', ['batch', 3, 224, 224]);
  const images = g.input('images', 'float32', ['batch', 'height', 'width', 3]);
  const mean = g.op('ReduceMean', [clip], { axes: { ints: [1, 2, 3] }, keepdims: { i: 0 } }, 'clip_mean');
  const flagged = g.op('Greater', [mean, g.float32([threshold], [])], {}, 'over_threshold');
  g.output(g.op('Identity', [images], {}, 'pass_through'), 'out_images', 'float32', ['batch', 'height', 'width', 3]);
  g.output(flagged, 'has_nsfw_concepts', 'bool', ['batch']);
  return g.finish();
}

/** SD 1.x's feature_extractor/preprocessor_config.json, key for key. */
export function safetyPreprocessorConfig(): Record<string, unknown> {
  return {
    crop_size: 224,
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_resize: true,
    feature_extractor_type: 'CLIPFeatureExtractor',
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_std: [0.26862954, 0.26130258, 0.27577711],
    resample: 3,
    size: 224,
  };
}
