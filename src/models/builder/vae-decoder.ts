import { GraphBuilder, type BuiltGraph } from './graph.ts';
import { conv2d, groupNorm, silu, upsampleNearest2x } from './layers.ts';
import type { FloatType } from './proto.ts';
import type { TinySdOptions } from './options.ts';

/**
 * A small AutoencoderKL decoder: conv_in, one ResNet block, three (nearest x2, conv) stages and the
 * GroupNorm/SiLU/conv_out head, so latents [b, 4, h, w] decode to images [b, 3, 8h, 8w].
 */

const NORM_EPS = 1e-6;
/**
 * conv_out reads GroupNorm + SiLU activations (RMS about 0.6), so this gain puts the image at a
 * standard deviation near 0.45: most pixels inside [-1, 1] with little clipping. GroupNorm makes it
 * independent of the latents' own scale.
 */
const OUTPUT_GAIN = 0.75;
/** Per-channel offsets give each seed's image a colour cast instead of a grey average. */
const OUTPUT_BIAS_STD = 0.15;

export function buildVaeDecoder(o: TinySdOptions): BuiltGraph {
  const floatType: FloatType = o.float16 ? 'float16' : 'float32';
  const { blockOutChannels: ch, normGroups: groups } = o.vaeDecoder;
  const g = new GraphBuilder('vae_decoder', floatType);
  const latent = g.input('latent_sample', floatType, ['batch', 4, 'height', 'width']);

  let h = conv2d(g, 'decoder.conv_in', latent, 4, ch[0], 3);
  const r = 'decoder.mid_block.resnets.0';
  let t = conv2d(g, `${r}.conv1`, silu(g, groupNorm(g, `${r}.norm1`, h, ch[0], groups, NORM_EPS), `${r}/act1`), ch[0], ch[0], 3);
  t = conv2d(g, `${r}.conv2`, silu(g, groupNorm(g, `${r}.norm2`, t, ch[0], groups, NORM_EPS), `${r}/act2`), ch[0], ch[0], 3);
  h = g.op('Add', [h, t], {}, `${r}/residual`);

  for (let i = 1; i <= 3; i++) {
    const name = `decoder.up_blocks.${i - 1}`;
    h = upsampleNearest2x(g, h, `${name}.upsamplers.0`);
    h = conv2d(g, `${name}.upsamplers.0.conv`, h, ch[i - 1]!, ch[i]!, 3);
    // The last stage's nonlinearity is the head's conv_norm_out below.
    if (i < 3) h = silu(g, groupNorm(g, `${name}.norm`, h, ch[i]!, groups, NORM_EPS), `${name}/act`);
  }

  h = silu(g, groupNorm(g, 'decoder.conv_norm_out', h, ch[3], groups, NORM_EPS), 'decoder/conv_act');
  h = conv2d(g, 'decoder.conv_out', h, ch[3], 3, 3, { gain: OUTPUT_GAIN, biasStd: OUTPUT_BIAS_STD });
  g.output(h, 'sample', floatType, ['batch', 3, 'image_height', 'image_width']);
  return g.finish();
}

export function vaeDecoderConfig(o: TinySdOptions): Record<string, unknown> {
  return {
    _class_name: 'AutoencoderKL',
    block_out_channels: o.vaeDecoder.blockOutChannels,
    latent_channels: 4,
    norm_num_groups: o.vaeDecoder.normGroups,
    out_channels: 3,
    // SDXL's VAE was trained with its own latent scale.
    scaling_factor: o.family === 'sdxl' ? 0.13025 : 0.18215,
    ...(o.family === 'sdxl' && { force_upcast: true }),
  };
}
