import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readModelFolder } from '../../src/engine/model/model-folder.ts';
import { TorchGenerator } from '../../src/engine/random/torch-generator.ts';
import { createScheduler } from '../../src/engine/schedulers/registry.ts';
import { loadClipTokenizer } from '../../src/engine/tokenizer/clip-tokenizer.ts';
import type { ResolvedRequest } from '../../src/engine/types.ts';

/**
 * A line-by-line transcription of diffusers' OnnxStableDiffusionPipeline.__call__ (0.32), with
 * the initial latents drawn by torch's CPU generator as StableDiffusionPipeline does, written
 * against bare ONNX Runtime sessions. The engine must produce the same pixels. Float32 models only.
 */
export async function diffusersReference(
  modelDir: string,
  request: ResolvedRequest,
  /**
   * For an LCM-distilled UNet (time_cond_proj_dim set): the guidance-scale embedding for this
   * request's guidance, one row, computed independently (see guidance-embedding.test.ts). As
   * StableDiffusionPipeline / LatentConsistencyModelPipeline do, it is fed as `timestep_cond` and
   * classifier-free guidance is off.
   */
  timestepCond?: Float32Array,
): Promise<Uint8Array[]> {
  const folder = await readModelFolder(modelDir);
  const tokenizer = await loadClipTokenizer(join(modelDir, 'tokenizer'));
  const textEncoder = await ort.InferenceSession.create(folder.textEncoderPath);
  const unet = await ort.InferenceSession.create(folder.unetPath);
  const vaeDecoder = await ort.InferenceSession.create(folder.vaeDecoderPath);
  try {
    const idsType = (textEncoder.inputMetadata[0] as ort.InferenceSession.TensorValueMetadata).type;
    const timestepMeta = unet.inputMetadata.find((m) => m.name === 'timestep') as ort.InferenceSession.TensorValueMetadata;

    const embed = async (text: string): Promise<Float32Array> => {
      const ids = tokenizer.encode(text);
      const tensor =
        idsType === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) : new ort.Tensor('int32', Int32Array.from(ids), [1, ids.length]);
      const out = await textEncoder.run({ input_ids: tensor });
      return out.last_hidden_state!.data as Float32Array;
    };

    const n = request.count;
    // do_classifier_free_guidance = guidance_scale > 1 and unet.config.time_cond_proj_dim is None
    const doCfg = request.guidance > 1.0 && timestepCond === undefined;
    // prompt_embeds = np.repeat(prompt_embeds, num_images_per_prompt, axis=0)
    const promptEmbeds = await embed(request.prompt);
    const rows: Float32Array[] = [];
    if (doCfg) {
      // StableDiffusionPipeline: uncond_tokens = [""] when no negative prompt is given.
      const negative = await embed(request.negativePrompt ?? '');
      for (let i = 0; i < n; i++) rows.push(negative);
    }
    for (let i = 0; i < n; i++) rows.push(promptEmbeds);
    const embeds = new Float32Array(rows.length * promptEmbeds.length);
    rows.forEach((row, i) => embeds.set(row, i * row.length));
    const embedsTensor = new ort.Tensor('float32', embeds, [rows.length, tokenizer.maxLength, promptEmbeds.length / tokenizer.maxLength]);

    const h = request.height / 8;
    const w = request.width / 8;
    const perImage = 4 * h * w;
    const scheduler = createScheduler(request.scheduler, folder.schedulerConfig);
    scheduler.setTimesteps(request.steps);
    const generator = new TorchGenerator(request.seed);
    let latents: Float32Array = generator.randn(n * perImage).map((x) => x * scheduler.initNoiseSigma);

    for (const t of scheduler.timesteps) {
      const doubled = doCfg ? Float32Array.from([...latents, ...latents]) : latents;
      const latentModelInput = scheduler.scaleModelInput(doubled, t);
      // timestep = np.array([t], dtype=timestep_dtype)
      const timestep =
        timestepMeta.type === 'int64' ? new ort.Tensor('int64', BigInt64Array.of(BigInt(Math.trunc(t))), [1]) : new ort.Tensor('float32', Float32Array.of(t), [1]);
      const feeds: Record<string, ort.Tensor> = {
        sample: new ort.Tensor('float32', latentModelInput, [doCfg ? 2 * n : n, 4, h, w]),
        timestep,
        encoder_hidden_states: embedsTensor,
      };
      // w_embedding = get_guidance_scale_embedding(tensor(guidance_scale - 1).repeat(batch))
      if (timestepCond) feeds.timestep_cond = new ort.Tensor('float32', Float32Array.from({ length: n * timestepCond.length }, (_, i) => timestepCond[i % timestepCond.length]!), [n, timestepCond.length]);
      const out = await unet.run(feeds);
      let noisePred = out.out_sample!.data as Float32Array;
      if (doCfg) {
        const uncond = noisePred.subarray(0, latents.length);
        const text = noisePred.subarray(latents.length);
        noisePred = uncond.map((u, i) => u + request.guidance * (text[i]! - u));
      }
      latents = scheduler.step(noisePred, t, latents, generator).prevSample;
    }

    latents = latents.map((x) => (1 / folder.scalingFactor) * x);
    const images: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const out = await vaeDecoder.run({ latent_sample: new ort.Tensor('float32', latents.slice(i * perImage, (i + 1) * perImage), [1, 4, h, w]) });
      const image = out.sample!.data as Float32Array; // NCHW
      const H = request.height;
      const W = request.width;
      const rgb = new Uint8Array(H * W * 3);
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < H * W; p++) {
          // np.clip(image / 2 + 0.5, 0, 1) then (images * 255).round().astype("uint8")
          const v = Math.min(1, Math.max(0, Math.fround(Math.fround(image[c * H * W + p]! / 2) + 0.5)));
          const scaled = Math.fround(v * 255);
          const rounded = Math.round(scaled);
          rgb[p * 3 + c] = scaled % 1 === 0.5 && rounded % 2 === 1 ? rounded - 1 : rounded;
        }
      }
      images.push(rgb);
    }
    return images;
  } finally {
    await Promise.all([textEncoder.release(), unet.release(), vaeDecoder.release()]);
  }
}
