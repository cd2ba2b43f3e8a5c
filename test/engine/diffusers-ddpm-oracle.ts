import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readModelFolder } from '../../src/engine/model/model-folder.ts';
import { TorchGenerator } from '../../src/engine/random/torch-generator.ts';
import { createScheduler } from '../../src/engine/schedulers/registry.ts';
import type { ResolvedRequest } from '../../src/engine/types.ts';

const f = Math.fround;

/**
 * A transcription of diffusers 0.32.2 DDPMPipeline.__call__ (and DDIMPipeline.__call__, whose
 * scheduler is `DDIMScheduler.from_config(scheduler.config)` and eta 0) on a bare ONNX Runtime
 * session: image = randn((batch, 3, H, W), generator); set_timesteps; for each t: model_output =
 * unet(image, t); image = scheduler.step(model_output, t, image, generator).prev_sample; then
 * (image / 2 + 0.5).clamp(0, 1), * 255, round. No prompt, no guidance, no input scaling.
 */
export async function diffusersDdpmReference(modelDir: string, request: ResolvedRequest): Promise<Uint8Array[]> {
  if (request.scheduler !== 'ddpm' && request.scheduler !== 'ddim') throw new Error('DDPMPipeline / DDIMPipeline step with DDPM or DDIM');
  const folder = await readModelFolder(modelDir);
  const unet = await ort.InferenceSession.create(join(modelDir, 'unet', 'model.onnx'));
  try {
    const { count: n, width: W, height: H } = request;
    const generator = new TorchGenerator(request.seed);
    let image = generator.randn(n * 3 * H * W);
    const scheduler = createScheduler(request.scheduler, folder.schedulerConfig);
    scheduler.setTimesteps(request.steps);
    for (const t of scheduler.timesteps) {
      const out = await unet.run({
        sample: new ort.Tensor('float32', image, [n, 3, H, W]),
        timestep: new ort.Tensor('int64', BigInt64Array.of(BigInt(t)), [1]),
      });
      image = scheduler.step(out.out_sample!.data as Float32Array, t, image, generator).prevSample;
    }
    const images: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const rgb = new Uint8Array(H * W * 3);
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < H * W; p++) {
          const v = Math.min(1, Math.max(0, f(f(image[(i * 3 + c) * H * W + p]! / 2) + 0.5)));
          const scaled = f(v * 255);
          const rounded = Math.round(scaled);
          rgb[p * 3 + c] = scaled % 1 === 0.5 && rounded % 2 === 1 ? rounded - 1 : rounded;
        }
      }
      images.push(rgb);
    }
    return images;
  } finally {
    await unet.release();
  }
}
