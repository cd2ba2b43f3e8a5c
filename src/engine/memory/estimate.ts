/**
 * Peak memory of one generation, estimated before it runs so a request that would not fit is
 * refused with the largest size that does, instead of the process dying out of memory.
 *
 * Model (fitted on the full-size SD 1.5 UNet, batch 2, CPU, the engine's session settings;
 * figures in README "Memory" and `npm run bench`):
 *
 *   peak = runtime + weights + rows × (α·A + β·A²)
 *
 * - runtime: Node, ONNX Runtime and the worker thread, resident before any model (about 0.5 GB). *
 * - weights: the bytes of the folder's ONNX graphs and weight files; sessions keep them resident.
 * - A: latent pixels, (width/8)·(height/8) (pixels for unconditional models, which denoise the image itself).
 * - rows: UNet batch rows, count × 2 with classifier-free guidance, else count.
 * - β·A²: the self-attention maps at full latent resolution, scores and softmax, each
 *   heads × A² float32 per row, so β = 2 × heads × 4 bytes (÷16 when attention starts one level down).
 * - α·A: everything else, linear in area; α = ALPHA_PER_CHANNEL × the first level's channels,
 *   fitted from the measured peaks. Measured activation peaks (peak RSS of one step minus RSS after
 *   it, batch 2): 983 MiB at 384², 2.5–3.0 GB at 512². Solving both points gives β ≈ 54 (theory: 64)
 *   and α ≈ 100 kB = 312 B × 320 channels; the estimate takes β = 64 and α = 312 B/channel so it
 *   errs high: 512² estimates 6.9 GB against 5.6–6.6 GB measured.
 */

export interface UnetShape {
  /** unet/config.json block_out_channels[0] (SD: 320). */
  firstLevelChannels: number | undefined;
  /** unet/config.json attention_head_dim (SD 1.x: 8, its head count). */
  attentionHeads: number | undefined;
  /** Whether the first down block has attention (SD 1.x/2.x yes, SDXL no). */
  attentionAtFullResolution: boolean | undefined;
}

export interface MemoryProfile {
  weightsBytes: number;
  /** α: bytes per latent pixel per batch row. */
  bytesPerLatentPixel: number;
  /** β: bytes per latent pixel² per batch row. */
  bytesPerLatentPixelSquared: number;
  /** Whether the UNet works on latents (÷8) rather than on pixels. */
  latentSpace: boolean;
}

/** Fitted: see the module comment. Bytes per latent pixel, per batch row, per first-level channel. */
export const ALPHA_PER_CHANNEL = 312;
/** Resident before any model is loaded: Node, ONNX Runtime, the worker thread. */
export const RUNTIME_BYTES = 512 * 1024 ** 2;
const FLOAT_BYTES = 4;
/** SD 1.5's UNet, for folders whose unet/config.json is missing or partial. */
const SD_UNET: Required<{ [K in keyof UnetShape]: NonNullable<UnetShape[K]> }> = {
  firstLevelChannels: 320,
  attentionHeads: 8,
  attentionAtFullResolution: true,
};

export function memoryProfileOf(input: { weightsBytes: number; unet: UnetShape; latentSpace: boolean }): MemoryProfile {
  const channels = input.unet.firstLevelChannels ?? SD_UNET.firstLevelChannels;
  const heads = input.unet.attentionHeads ?? SD_UNET.attentionHeads;
  const fullResolution = input.unet.attentionAtFullResolution ?? SD_UNET.attentionAtFullResolution;
  return {
    weightsBytes: input.weightsBytes,
    bytesPerLatentPixel: ALPHA_PER_CHANNEL * channels,
    bytesPerLatentPixelSquared: (2 * heads * FLOAT_BYTES) / (fullResolution ? 1 : 16),
    latentSpace: input.latentSpace,
  };
}

export interface JobShape {
  width: number;
  height: number;
  count: number;
  guidance: number;
}

/** Bytes the job's activations need on top of the weights. */
export function activationBytes(profile: MemoryProfile, job: JobShape): number {
  const scale = profile.latentSpace ? 8 : 1;
  const area = (job.width / scale) * (job.height / scale);
  const rows = job.count * (job.guidance > 1 ? 2 : 1);
  return rows * (profile.bytesPerLatentPixel * area + profile.bytesPerLatentPixelSquared * area * area);
}

export function peakBytes(profile: MemoryProfile, job: JobShape): number {
  return RUNTIME_BYTES + profile.weightsBytes + activationBytes(profile, job);
}

/**
 * The largest size with the job's aspect ratio (multiples of 8) whose peak stays within
 * `availableBytes`, or undefined when not even 8×8 fits.
 */
export function largestFittingSize(profile: MemoryProfile, job: JobShape, availableBytes: number): { width: number; height: number } | undefined {
  const aspect = job.height / job.width;
  let best: { width: number; height: number } | undefined;
  for (let width = 8; width <= job.width; width += 8) {
    const height = Math.max(8, Math.floor((width * aspect) / 8) * 8);
    if (peakBytes(profile, { ...job, width, height }) > availableBytes) break;
    best = { width, height };
  }
  return best;
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : `${Math.ceil(bytes / 1024 ** 2)} MB`;
}
