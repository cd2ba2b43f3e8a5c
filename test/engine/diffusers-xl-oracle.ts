import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { TorchGenerator } from '../../src/engine/random/torch-generator.ts';
import { createScheduler } from '../../src/engine/schedulers/registry.ts';
import { loadClipTokenizer, type PromptTokenizer } from '../../src/engine/tokenizer/clip-tokenizer.ts';
import type { ResolvedRequest } from '../../src/engine/types.ts';

type Json = Record<string, unknown>;
const readJson = async (path: string): Promise<Json> => JSON.parse(await readFile(path, 'utf8')) as Json;

/** torch.cat(dim=0) of equally shaped tensors. */
function cat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** x.repeat(1, n, 1).view(n, seq, -1) for a batch of one: n consecutive copies. */
const repeatBatch = (x: Float32Array, n: number): Float32Array => cat(Array.from({ length: n }, () => x));

/**
 * A line-by-line transcription of diffusers 0.32's StableDiffusionXLPipeline.__call__ (with its
 * encode_prompt, _get_add_time_ids and the VaeImageProcessor postprocess) against bare ONNX
 * Runtime sessions of an optimum SDXL export. Float32 models; no watermark (diffusers adds one
 * only when the invisible-watermark package is installed). `negativePrompt: undefined` is
 * diffusers' `negative_prompt=None`.
 */
export async function diffusersXlReference(
  modelDir: string,
  request: ResolvedRequest,
  /** LCM-SDXL: the guidance-scale embedding row for this guidance (see diffusers-oracle.ts). */
  timestepCond?: Float32Array,
): Promise<Uint8Array[]> {
  const modelIndex = await readJson(join(modelDir, 'model_index.json'));
  const schedulerConfig = await readJson(join(modelDir, 'scheduler', 'scheduler_config.json'));
  const vaeConfig = await readJson(join(modelDir, 'vae_decoder', 'config.json'));
  const tokenizers: PromptTokenizer[] = [await loadClipTokenizer(join(modelDir, 'tokenizer')), await loadClipTokenizer(join(modelDir, 'tokenizer_2'))];
  const textEncoders = [
    await ort.InferenceSession.create(join(modelDir, 'text_encoder', 'model.onnx')),
    await ort.InferenceSession.create(join(modelDir, 'text_encoder_2', 'model.onnx')),
  ];
  const unet = await ort.InferenceSession.create(join(modelDir, 'unet', 'model.onnx'));
  const vae = await ort.InferenceSession.create(join(modelDir, 'vae_decoder', 'model.onnx'));
  try {
    // text_encoder(ids, output_hidden_states=True): outputs[0] and hidden_states[-2].
    const runEncoder = async (i: number, text: string) => {
      const session = textEncoders[i]!;
      const ids = tokenizers[i]!.encode(text);
      const idsType = (session.inputMetadata[0] as ort.InferenceSession.TensorValueMetadata).type;
      const input = idsType === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) : new ort.Tensor('int32', Int32Array.from(ids), [1, ids.length]);
      const out = await session.run({ input_ids: input });
      const hiddenStates = session.outputNames
        .filter((name) => /^hidden_states\.\d+$/.test(name))
        .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
      const penultimate = out[hiddenStates.at(-2)!]!;
      return { first: out[session.outputNames[0]!]!, hidden: penultimate.data as Float32Array, seq: penultimate.dims[1]!, width: penultimate.dims[2]! };
    };
    // encode_prompt: prompt_2 = prompt; pooled_prompt_embeds = prompt_embeds[0] of the final encoder.
    const encodeBoth = async (text: string) => {
      const a = await runEncoder(0, text);
      const b = await runEncoder(1, text);
      const width = a.width + b.width;
      const embeds = new Float32Array(a.seq * width);
      for (let s = 0; s < a.seq; s++) {
        for (let c = 0; c < a.width; c++) embeds[s * width + c] = a.hidden[s * a.width + c]!;
        for (let c = 0; c < b.width; c++) embeds[s * width + a.width + c] = b.hidden[s * b.width + c]!;
      }
      return { embeds, pooled: b.first.data as Float32Array, seq: a.seq, width };
    };

    const unetInputs = new Set(unet.inputNames);
    const doCfg = request.guidance > 1 && !unetInputs.has('timestep_cond');
    const n = request.count;
    const positive = await encodeBoth(request.prompt);
    const forceZeros = modelIndex.force_zeros_for_empty_prompt ?? true;
    let negative: typeof positive | undefined;
    if (doCfg && request.negativePrompt === undefined && forceZeros) {
      negative = { ...positive, embeds: new Float32Array(positive.embeds.length), pooled: new Float32Array(positive.pooled.length) };
    } else if (doCfg) {
      negative = await encodeBoth(request.negativePrompt || '');
    }

    let promptEmbeds: Float32Array = repeatBatch(positive.embeds, n);
    let addTextEmbeds: Float32Array = repeatBatch(positive.pooled, n);
    // _get_add_time_ids: list(original_size + crops_coords_top_left + target_size)
    const H = request.height;
    const W = request.width;
    let addTimeIds: Float32Array = Float32Array.of(H, W, 0, 0, H, W);
    if (doCfg) {
      promptEmbeds = cat([repeatBatch(negative!.embeds, n), promptEmbeds]);
      addTextEmbeds = cat([repeatBatch(negative!.pooled, n), addTextEmbeds]);
      addTimeIds = cat([addTimeIds, addTimeIds]);
    }
    addTimeIds = repeatBatch(addTimeIds, n); // .repeat(batch_size * num_images_per_prompt, 1)
    const rows = doCfg ? 2 * n : n;

    const scheduler = createScheduler(request.scheduler, schedulerConfig);
    scheduler.setTimesteps(request.steps);
    const h = H / 8;
    const w = W / 8;
    const generator = new TorchGenerator(request.seed);
    let latents: Float32Array = generator.randn(n * 4 * h * w).map((x) => x * scheduler.initNoiseSigma);

    const timestepMeta = unet.inputMetadata.find((m) => m.name === 'timestep') as ort.InferenceSession.TensorValueMetadata;
    const timestepTensor = (t: number): ort.Tensor => {
      const dims = timestepMeta.shape.length === 0 ? [] : [timestepMeta.shape[0] === 1 ? 1 : rows];
      const size = dims.length === 0 ? 1 : dims[0]!;
      return timestepMeta.type === 'int64'
        ? new ort.Tensor('int64', new BigInt64Array(size).fill(BigInt(Math.trunc(t))), dims)
        : new ort.Tensor('float32', new Float32Array(size).fill(t), dims);
    };
    for (const t of scheduler.timesteps) {
      const latentModelInput = scheduler.scaleModelInput(doCfg ? cat([latents, latents]) : latents, t);
      const out = await unet.run({
        sample: new ort.Tensor('float32', latentModelInput, [rows, 4, h, w]),
        timestep: timestepTensor(t),
        encoder_hidden_states: new ort.Tensor('float32', promptEmbeds, [rows, positive.seq, positive.width]),
        text_embeds: new ort.Tensor('float32', addTextEmbeds, [rows, positive.pooled.length]),
        time_ids: new ort.Tensor('float32', addTimeIds, [rows, 6]),
        ...(timestepCond && {
          timestep_cond: new ort.Tensor('float32', Float32Array.from({ length: n * timestepCond.length }, (_, i) => timestepCond[i % timestepCond.length]!), [n, timestepCond.length]),
        }),
      });
      let noisePred = out[unet.outputNames[0]!]!.data as Float32Array;
      if (doCfg) {
        const uncond = noisePred.subarray(0, latents.length);
        const text = noisePred.subarray(latents.length);
        noisePred = uncond.map((u, i) => u + request.guidance * (text[i]! - u));
      }
      latents = scheduler.step(noisePred, t, latents, generator).prevSample;
    }

    // image = vae.decode(latents / scaling_factor): the whole batch at once.
    const scaling = vaeConfig.scaling_factor as number;
    const decoded = await vae.run({ latent_sample: new ort.Tensor('float32', latents.map((x) => x / scaling), [n, 4, h, w]) });
    const image = decoded.sample!.data as Float32Array;
    const images: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const rgb = new Uint8Array(H * W * 3);
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < H * W; p++) {
          // (image / 2 + 0.5).clamp(0, 1), then numpy (images * 255).round().astype("uint8")
          const v = Math.min(1, Math.max(0, Math.fround(Math.fround(image[((i * 3 + c) * H * W) + p]! / 2) + 0.5)));
          const scaled = Math.fround(v * 255);
          const floor = Math.floor(scaled);
          const diff = scaled - floor;
          rgb[p * 3 + c] = diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
        }
      }
      images.push(rgb);
    }
    return images;
  } finally {
    await Promise.all([...textEncoders, unet, vae].map((s) => s.release()));
  }
}
