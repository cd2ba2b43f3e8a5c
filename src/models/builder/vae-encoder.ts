import { GraphBuilder, type BuiltGraph } from './graph.ts';
import { conv2d, groupNorm, silu } from './layers.ts';
import type { FloatType } from './proto.ts';
import type { TinySdOptions } from './options.ts';
import { vaeDecoderConfig } from './vae-decoder.ts';

/**
 * A small AutoencoderKL encoder with quant_conv, exported as optimum does: images [b, 3, 8h, 8w] in
 * [-1, 1] to `latent_parameters` [b, 8, h, w], the latent distribution's mean (first 4 channels) and
 * log-variance (last 4). It mirrors the decoder's widths, as diffusers' encoder shares
 * block_out_channels with the decoder.
 */

const NORM_EPS = 1e-6;
/** A trained VAE's posterior is narrow: log-variance well below 0 keeps the sample near the mean. */
const LOGVAR_OFFSET = -4;

export function buildVaeEncoder(o: TinySdOptions): BuiltGraph {
  const floatType: FloatType = o.float16 ? 'float16' : 'float32';
  const { blockOutChannels, normGroups: groups } = o.vaeDecoder;
  const ch = [...blockOutChannels].reverse();
  const g = new GraphBuilder('vae_encoder', floatType);
  const sample = g.input('sample', floatType, ['batch', 3, 'height', 'width']);

  let h = conv2d(g, 'encoder.conv_in', sample, 3, ch[0]!, 3);
  for (let i = 1; i <= 3; i++) {
    const name = `encoder.down_blocks.${i - 1}`;
    // 3x3, stride 2: n -> n / 2 for the even sizes an image that is a multiple of 8 has.
    h = conv2d(g, `${name}.downsamplers.0.conv`, h, ch[i - 1]!, ch[i]!, 3, { stride: 2 });
    h = silu(g, groupNorm(g, `${name}.norm`, h, ch[i]!, groups, NORM_EPS), `${name}/act`);
  }
  h = silu(g, groupNorm(g, 'encoder.conv_norm_out', h, ch[3]!, groups, NORM_EPS), 'encoder/conv_act');
  h = conv2d(g, 'encoder.conv_out', h, ch[3]!, 8, 3);
  h = conv2d(g, 'quant_conv', h, 8, 8, 1);
  const offset = g.float([0, 0, 0, 0, LOGVAR_OFFSET, LOGVAR_OFFSET, LOGVAR_OFFSET, LOGVAR_OFFSET], [1, 8, 1, 1]);
  h = g.op('Add', [h, offset], {}, 'logvar_offset');
  g.output(h, 'latent_parameters', floatType, ['batch', 8, 'latent_height', 'latent_width']);
  return g.finish();
}

export function vaeEncoderConfig(o: TinySdOptions): Record<string, unknown> {
  return { ...vaeDecoderConfig(o), in_channels: 3 };
}
