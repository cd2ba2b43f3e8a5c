import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { readModelFolder } from '../../src/engine/model/model-folder.ts';
import { TorchGenerator } from '../../src/engine/random/torch-generator.ts';
import { createScheduler } from '../../src/engine/schedulers/registry.ts';
import type { SchedulerName } from '../../src/engine/schedulers/scheduler.ts';
import { loadClipTokenizer } from '../../src/engine/tokenizer/clip-tokenizer.ts';
import type { ResolvedRequest } from '../../src/engine/types.ts';
import { referenceCase } from '../schedulers/helpers.ts';

const f = Math.fround;

/**
 * A transcription of diffusers 0.32.2 StableDiffusionImg2ImgPipeline.__call__ on bare ONNX Runtime
 * sessions, as optimum runs it (the VAE encoder's `latent_parameters` wrapped in a
 * DiagonalGaussianDistribution). Float32 models only, 10 steps only: add_noise's sigmas come from
 * torch's own figures (test/reference/schedulers.json) and its ᾱ from a float32 transcription of
 * the scaled_linear schedule, not from the engine's schedulers. Steps use the scheduler ports, as
 * the text-to-image oracle does. `imageFile` must already be the request's size (Pillow's resize
 * is checked on its own).
 */
export async function diffusersImg2ImgReference(modelDir: string, request: ResolvedRequest, imageFile: string): Promise<Uint8Array[]> {
  if (request.steps !== 10) throw new Error('the img2img oracle takes its add_noise figures from a 10-step reference run');
  const folder = await readModelFolder(modelDir);
  const tokenizer = await loadClipTokenizer(join(modelDir, 'tokenizer'));
  const textEncoder = await ort.InferenceSession.create(folder.textEncoderPath);
  const unet = await ort.InferenceSession.create(folder.unetPath);
  const vaeEncoder = await ort.InferenceSession.create(join(modelDir, 'vae_encoder', 'model.onnx'));
  const vaeDecoder = await ort.InferenceSession.create(folder.vaeDecoderPath);
  try {
    const embed = async (text: string): Promise<Float32Array> => {
      const ids = tokenizer.encode(text);
      const out = await textEncoder.run({ input_ids: new ort.Tensor('int32', Int32Array.from(ids), [1, ids.length]) });
      return out.last_hidden_state!.data as Float32Array;
    };
    const n = request.count;
    const doCfg = request.guidance > 1.0;
    const positive = await embed(request.prompt);
    const rows: Float32Array[] = [];
    if (doCfg) {
      const negative = await embed(request.negativePrompt ?? '');
      for (let i = 0; i < n; i++) rows.push(negative);
    }
    for (let i = 0; i < n; i++) rows.push(positive);
    const embeds = new Float32Array(rows.length * positive.length);
    rows.forEach((row, i) => embeds.set(row, i * row.length));
    const embedsTensor = new ort.Tensor('float32', embeds, [rows.length, tokenizer.maxLength, positive.length / tokenizer.maxLength]);

    // 4. image_processor.preprocess: np.array(image).astype(np.float32) / 255.0, then 2 * x - 1, NCHW.
    const { data: rgb, info } = await sharp(await readFile(imageFile)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const W = request.width;
    const H = request.height;
    if (info.width !== W || info.height !== H) throw new Error(`oracle: ${imageFile} is ${info.width}×${info.height}, the request ${W}×${H}`);
    const image = new Float32Array(3 * H * W);
    for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) image[c * H * W + p] = f(2 * f(rgb[p * 3 + c]! / 255)) - 1;

    // 5. set_timesteps, then get_timesteps.
    const scheduler = createScheduler(request.scheduler, folder.schedulerConfig);
    scheduler.setTimesteps(request.steps);
    const order = request.scheduler === 'heun' ? 2 : 1; // HeunDiscreteScheduler.order = 2; the others 1
    const initTimestep = Math.min(Math.trunc(request.steps * request.strength!), request.steps);
    const tStart = Math.max(request.steps - initTimestep, 0);
    const timesteps = scheduler.timesteps.slice(tStart * order);
    if (HAS_BEGIN_INDEX.includes(request.scheduler)) scheduler.setBeginIndex(tStart * order);

    // 6. prepare_latents: retrieve_latents(vae.encode(image), generator) = latent_dist.sample(generator).
    const generator = new TorchGenerator(request.seed);
    const h = H / 8;
    const w = W / 8;
    const perImage = 4 * h * w;
    const parameters = (await vaeEncoder.run({ sample: new ort.Tensor('float32', image, [1, 3, H, W]) })).latent_parameters!.data as Float32Array;
    const mean = parameters.subarray(0, perImage);
    const logvar = parameters.subarray(perImage).map((v) => Math.min(Math.max(v, -30), 20));
    const std = logvar.map((v) => Math.exp(f(0.5 * v)));
    const sample = generator.randn(perImage);
    const encoded = mean.map((m, i) => m + f(std[i]! * sample[i]!));
    const scaling = f(folder.scalingFactor);
    const initLatents = new Float32Array(n * perImage);
    for (let i = 0; i < n; i++) initLatents.set(encoded.map((x) => scaling * x), i * perImage);
    const noise = generator.randn(n * perImage);
    let latents = addNoise(request.scheduler, initLatents, noise, timesteps[0]!, tStart * order);

    // 8. Denoising loop.
    for (const t of timesteps) {
      const doubled = doCfg ? Float32Array.from([...latents, ...latents]) : latents;
      const input = scheduler.scaleModelInput(doubled, t);
      const out = await unet.run({
        sample: new ort.Tensor('float32', input, [doCfg ? 2 * n : n, 4, h, w]),
        timestep: new ort.Tensor('float32', Float32Array.of(t), [1]),
        encoder_hidden_states: embedsTensor,
      });
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
      const pixels = out.sample!.data as Float32Array;
      const rgbOut = new Uint8Array(H * W * 3);
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < H * W; p++) {
          const v = Math.min(1, Math.max(0, f(f(pixels[c * H * W + p]! / 2) + 0.5)));
          const scaled = f(v * 255);
          const rounded = Math.round(scaled);
          rgbOut[p * 3 + c] = scaled % 1 === 0.5 && rounded % 2 === 1 ? rounded - 1 : rounded;
        }
      }
      images.push(rgbOut);
    }
    return images;
  } finally {
    await Promise.all([textEncoder.release(), unet.release(), vaeEncoder.release(), vaeDecoder.release()]);
  }
}

/** The diffusers classes with `set_begin_index` (DDIM, DDPM and PNDM have none). */
const HAS_BEGIN_INDEX: readonly SchedulerName[] = ['lms', 'euler', 'euler-a', 'heun', 'dpm++2m', 'dpm++2m-karras', 'unipc', 'lcm'];
const SIGMA_ADD_NOISE: readonly SchedulerName[] = ['lms', 'euler', 'euler-a', 'heun'];
const ALPHA_SIGMA_ADD_NOISE: readonly SchedulerName[] = ['dpm++2m', 'dpm++2m-karras', 'unipc'];

/** Each class's `add_noise(original, noise, timesteps[:1])` with its begin index set. */
function addNoise(name: SchedulerName, original: Float32Array, noise: Float32Array, timestep: number, beginIndex: number): Float32Array {
  const out = new Float32Array(original.length);
  if (SIGMA_ADD_NOISE.includes(name)) {
    // sigma = sigmas[begin_index]; original_samples + noise * sigma
    const sigma = referenceCase(name).ref.sigmas![beginIndex]!;
    for (let i = 0; i < out.length; i++) out[i] = original[i]! + f(noise[i]! * sigma);
  } else if (ALPHA_SIGMA_ADD_NOISE.includes(name)) {
    // alpha_t, sigma_t = _sigma_to_alpha_sigma_t(sigmas[begin_index]); alpha_t * x + sigma_t * noise
    const sigma = referenceCase(name).ref.sigmas![beginIndex]!;
    const alphaT = f(1 / f(Math.sqrt(f(f(sigma * sigma) + 1))));
    const sigmaT = f(sigma * alphaT);
    for (let i = 0; i < out.length; i++) out[i] = f(alphaT * original[i]!) + f(sigmaT * noise[i]!);
  } else {
    // DDPM-style: alphas_cumprod[t] ** 0.5 * x + (1 - alphas_cumprod[t]) ** 0.5 * noise
    const alphaProd = scaledLinearAlphasCumprod()[timestep]!;
    const a = f(Math.sqrt(alphaProd));
    const b = f(Math.sqrt(f(1 - alphaProd)));
    for (let i = 0; i < out.length; i++) out[i] = f(a * original[i]!) + f(b * noise[i]!);
  }
  return out;
}

/**
 * SD 1.5's `alphas_cumprod` as torch builds it in float32: betas = torch.linspace(0.00085 ** 0.5,
 * 0.012 ** 0.5, 1000, dtype=torch.float32) ** 2 (linspace fills from both ends, step in float32),
 * alphas = 1 - betas, then a float32 running product.
 */
function scaledLinearAlphasCumprod(): Float32Array {
  const steps = 1000;
  const start = f(Math.sqrt(0.00085));
  const end = f(Math.sqrt(0.012));
  const step = f(f(end - start) / (steps - 1));
  const out = new Float32Array(steps);
  let product = 1;
  for (let i = 0; i < steps; i++) {
    const value = i < steps / 2 ? f(start + f(step * i)) : f(end - f(step * (steps - i - 1)));
    product = f(product * f(1 - f(value * value)));
    out[i] = product;
  }
  return out;
}
