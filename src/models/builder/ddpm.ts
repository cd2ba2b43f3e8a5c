import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { jsonFile } from './configs.ts';
import { buildAtomically, writeText } from './folder.ts';
import { GraphBuilder, type BuiltGraph } from './graph.ts';
import { conv2d, groupNorm, linear, silu } from './layers.ts';
import { BUILDER_VERSION, writeOnnxModel } from './onnx-writer.ts';
import { BuildOptionsError } from './options.ts';
import { timestepEmbedding } from './unet.ts';

/**
 * `tiny-ddpm`: a random-weight unconditional pixel-space model in the layout of
 * google/ddpm-celebahq-256's ONNX export (model_index.json `DDPMPipeline`, scheduler/ and unet/ only).
 * The UNet2DModel miniature takes `sample` [b, 3, H, W] and an int64 `timestep` [1] and predicts the
 * noise: conv_in, one timestep-conditioned ResNet block, the GroupNorm/SiLU/conv_out head.
 */

export interface TinyDdpmOptions {
  seed: number;
  /** unet/config.json sample_size: the image side the model draws by default. */
  sampleSize: number;
  channels: number;
}

export const TINY_DDPM_DEFAULTS: TinyDdpmOptions = { seed: 0, sampleSize: 32, channels: 32 };

const NORM_GROUPS = 8;
const NORM_EPS = 1e-5;

function buildPixelUnet(o: TinyDdpmOptions): BuiltGraph {
  const g = new GraphBuilder('unet', 'float32');
  const c = o.channels;
  const sample = g.input('sample', 'float32', ['batch', 3, 'height', 'width']);
  const timestep = g.input('timestep', 'int64', [1]);
  let temb = timestepEmbedding(g, timestep, c, 'float32');
  temb = linear(g, 'time_embedding.linear_1', temb, c, c * 4);
  temb = silu(g, linear(g, 'time_embedding.linear_2', silu(g, temb, 'time_embedding/act'), c * 4, c * 4), 'time_embedding/resnet_act');

  let h = conv2d(g, 'conv_in', sample, 3, c, 3);
  const r = 'mid_block.resnets.0';
  let t = conv2d(g, `${r}.conv1`, silu(g, groupNorm(g, `${r}.norm1`, h, c, NORM_GROUPS, NORM_EPS), `${r}/act1`), c, c, 3);
  const projected = linear(g, `${r}.time_emb_proj`, temb, c * 4, c);
  t = g.op('Add', [t, g.op('Unsqueeze', [projected, g.int64([2, 3])], {}, `${r}/temb/Unsqueeze`)], {}, `${r}/temb/Add`);
  t = conv2d(g, `${r}.conv2`, silu(g, groupNorm(g, `${r}.norm2`, t, c, NORM_GROUPS, NORM_EPS), `${r}/act2`), c, c, 3);
  h = g.op('Add', [h, t], {}, `${r}/residual`);
  h = silu(g, groupNorm(g, 'conv_norm_out', h, c, NORM_GROUPS, NORM_EPS), 'conv_act');
  // Unit-variance output, the scale of a real noise prediction.
  h = conv2d(g, 'conv_out', h, c, 3, 3, { gain: 1.6 });
  g.output(h, 'out_sample', 'float32', ['batch', 3, 'height', 'width']);
  return g.finish();
}

/** Writes the tiny-ddpm folder (atomically, as buildModel does). Same options, same bytes. */
export async function buildDdpmModel(outDir: string, options: Partial<TinyDdpmOptions> = {}): Promise<{ outDir: string; seconds: number; parameters: number }> {
  const o = { ...TINY_DDPM_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new BuildOptionsError(`seed must be an integer from 0 to 4294967295; got ${o.seed}`);
  if (!Number.isInteger(o.sampleSize) || o.sampleSize < 8) throw new BuildOptionsError(`sample size must be an integer of at least 8; got ${o.sampleSize}`);
  if (!Number.isInteger(o.channels) || o.channels % NORM_GROUPS !== 0 || o.channels < NORM_GROUPS) {
    throw new BuildOptionsError(`channels must be a positive multiple of ${NORM_GROUPS}; got ${o.channels}`);
  }
  const started = performance.now();
  return buildAtomically(outDir, async (dir) => {
    await writeText(
      dir,
      'model_index.json',
      jsonFile({
        _class_name: 'DDPMPipeline',
        _diffusers_version: '0.32.2',
        scheduler: ['diffusers', 'DDPMScheduler'],
        unet: ['diffusers', 'OnnxRuntimeModel'],
        _imagine_builder_version: BUILDER_VERSION,
      }),
    );
    // google/ddpm-celebahq-256's scheduler_config.json.
    await writeText(
      dir,
      join('scheduler', 'scheduler_config.json'),
      jsonFile({
        _class_name: 'DDPMScheduler',
        _diffusers_version: '0.1.1',
        beta_end: 0.02,
        beta_schedule: 'linear',
        beta_start: 0.0001,
        clip_sample: true,
        num_train_timesteps: 1000,
        trained_betas: null,
        variance_type: 'fixed_small',
      }),
    );
    await mkdir(join(dir, 'unet'), { recursive: true });
    const written = await writeOnnxModel(buildPixelUnet(o), join(dir, 'unet', 'model.onnx'), { seed: o.seed, externalData: false });
    await writeText(
      dir,
      join('unet', 'config.json'),
      jsonFile({
        _class_name: 'UNet2DModel',
        _diffusers_version: '0.32.2',
        block_out_channels: [o.channels],
        in_channels: 3,
        out_channels: 3,
        norm_num_groups: NORM_GROUPS,
        sample_size: o.sampleSize,
      }),
    );
    return { outDir, seconds: (performance.now() - started) / 1000, parameters: written.parameters };
  });
}
