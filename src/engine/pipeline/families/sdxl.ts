import { ModelFileError } from '../../model/files.ts';
import { loadClipTokenizer } from '../../tokenizer/clip-tokenizer.ts';
import type { ResolvedRequest, RgbImage } from '../../types.ts';
import { fixedConditioning, type UnetConditioning } from '../conditioning.ts';
import { describeTimestepCond, timestepCondFeed, type TimestepCondInput } from '../guidance-embedding.ts';
import { concatRows, repeatRows, type LatentShape } from '../latent-shape.ts';
import { latentPreview, SDXL_LATENT_RGB_FACTORS } from '../preview.ts';
import { VaeDecoder } from '../stages/decode.ts';
import { describeTextEncoder, encodePrompt, type PromptEmbedding, type TextEncoderPart } from '../stages/encode-prompt.ts';
import { floatTensor } from '../tensors.ts';
import { describeUnet, floatInputType, type UnetPart } from '../unet.ts';
import type { FamilyContext, FamilyDefinition, FamilyPipeline } from './family.ts';

/** Both encoders' second-to-last hidden states side by side (torch.concat(dim=-1)), per token. */
function concatLastAxis(a: PromptEmbedding, b: PromptEmbedding): Float32Array {
  const width = a.width + b.width;
  const out = new Float32Array(a.tokens * width);
  for (let t = 0; t < a.tokens; t++) {
    out.set(a.hidden.subarray(t * a.width, (t + 1) * a.width), t * width);
    out.set(b.hidden.subarray(t * b.width, (t + 1) * b.width), t * width + a.width);
  }
  return out;
}

interface XlEmbedding {
  hidden: Float32Array;
  tokens: number;
  width: number;
  pooled: Float32Array;
}

/**
 * diffusers' StableDiffusionXLPipeline (0.32): the prompt through both encoders, each with its own
 * tokenizer; their `hidden_states[-2]` concatenated; text_encoder_2's `text_embeds` as the pooled
 * embedding; `time_ids` = (H, W, 0, 0, H, W); under guidance every conditioning input is batched
 * [negative; positive], the negative being zeros when none is given and the folder sets
 * `force_zeros_for_empty_prompt`.
 */
class StableDiffusionXLPipeline implements FamilyPipeline {
  /** Both tokenizers cut at the same length (checked at assembly); the first one's words are reported. */
  get promptTokenizer() {
    return this.encoders[0].tokenizer;
  }

  readonly family = 'sdxl';
  readonly latentChannels = 4;

  constructor(
    private readonly encoders: readonly [TextEncoderPart, TextEncoderPart],
    readonly unet: UnetPart,
    readonly decoder: VaeDecoder,
    private readonly forceZerosForEmptyPrompt: boolean,
    private readonly timestepCond: TimestepCondInput | undefined,
  ) {}

  private async embed(text: string): Promise<XlEmbedding> {
    const [first, second] = this.encoders;
    const a = await encodePrompt(first, text);
    const b = await encodePrompt(second, text);
    if (a.tokens !== b.tokens) {
      throw new ModelFileError(second.path, `its tokenizer gives ${b.tokens} tokens where the first gives ${a.tokens}: both must pad to the same length`);
    }
    return { hidden: concatLastAxis(a, b), tokens: a.tokens, width: a.width + b.width, pooled: b.pooled! };
  }

  async encode(request: ResolvedRequest): Promise<UnetConditioning> {
    const n = request.count;
    const useGuidance = request.guidance > 1 && !this.timestepCond;
    const positive = await this.embed(request.prompt);
    const sides = [positive];
    if (useGuidance) {
      const zeroNegative = request.negativePrompt === undefined && this.forceZerosForEmptyPrompt;
      // torch.zeros_like of both the hidden states and the pooled embedding.
      const zeros: XlEmbedding = { ...positive, hidden: new Float32Array(positive.hidden.length), pooled: new Float32Array(positive.pooled.length) };
      const negative = zeroNegative ? zeros : await this.embed(request.negativePrompt ?? '');
      sides.unshift(negative);
    }
    const batch = n * sides.length;
    const { height, width } = request;
    const timeIds = repeatRows(Float32Array.of(height, width, 0, 0, height, width), batch);
    const input = (name: string) => {
      const meta = this.unet.conditioningInputs.get(name)!;
      return { name: meta.name, type: floatInputType(this.unet.path, meta) };
    };
    const context = input('encoder_hidden_states');
    const textEmbeds = input('text_embeds');
    const time = input('time_ids');
    return fixedConditioning(useGuidance ? 2 : 1, request.guidance, {
      [context.name]: floatTensor(context.type, concatRows(sides.map((s) => repeatRows(s.hidden, n))), [batch, positive.tokens, positive.width]),
      [textEmbeds.name]: floatTensor(textEmbeds.type, concatRows(sides.map((s) => repeatRows(s.pooled, n))), [batch, positive.pooled.length]),
      [time.name]: floatTensor(time.type, timeIds, [batch, 6]),
      ...(this.timestepCond && timestepCondFeed(this.timestepCond, request.guidance, n)),
    });
  }

  preview(latents: Float32Array, shape: LatentShape): RgbImage {
    return latentPreview(latents, shape.width, shape.height, SDXL_LATENT_RGB_FACTORS);
  }
}

function declaredWidth(unet: UnetPart, name: string, axis: number): number | undefined {
  const meta = unet.conditioningInputs.get(name);
  const dim = meta?.isTensor ? meta.shape.at(axis) : undefined;
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}

function checkWidth(unet: UnetPart, name: string, axis: number, expected: number | undefined, what: string): void {
  const declared = declaredWidth(unet, name, axis);
  if (declared !== undefined && expected !== undefined && declared !== expected) {
    throw new ModelFileError(unet.path, `${name} width ${declared} does not match ${what} (${expected}): the parts come from different models`);
  }
}

export const sdxlFamily: FamilyDefinition = {
  defaultSampleSize: 128,
  sessionPaths: (folder) => [folder.textEncoderPath, folder.textEncoder2Path, folder.unetPath, folder.vaeDecoderPath],
  async assemble({ folder, sessions }: FamilyContext): Promise<FamilyPipeline> {
    const tokenizer = await loadClipTokenizer(folder.tokenizerDir);
    const tokenizer2 = await loadClipTokenizer(folder.tokenizer2Dir);
    const first = describeTextEncoder(folder.textEncoderPath, 'text_encoder', sessions.get(folder.textEncoderPath), tokenizer, { layer: 'penultimate', pooled: false });
    const second = describeTextEncoder(folder.textEncoder2Path, 'text_encoder_2', sessions.get(folder.textEncoder2Path), tokenizer2, {
      layer: 'penultimate',
      pooled: true,
    });
    if (tokenizer.maxLength !== tokenizer2.maxLength) {
      throw new ModelFileError(
        `${folder.tokenizer2Dir}/tokenizer_config.json`,
        `model_max_length ${tokenizer2.maxLength} differs from tokenizer/'s ${tokenizer.maxLength}: SDXL concatenates both encoders token by token`,
      );
    }
    const unet = describeUnet(folder.unetPath, sessions.get(folder.unetPath), {
      channels: 4,
      fillable: ['encoder_hidden_states', 'text_embeds', 'time_ids', 'timestep_cond'],
      required: ['encoder_hidden_states', 'text_embeds', 'time_ids'],
      family: 'SDXL',
    });
    const hiddenWidth = first.hiddenWidth !== undefined && second.hiddenWidth !== undefined ? first.hiddenWidth + second.hiddenWidth : undefined;
    checkWidth(unet, 'encoder_hidden_states', 2, hiddenWidth, 'the two text encoders’ widths together');
    // The refiner's time_ids carry an aesthetic score instead (5 values): not supported.
    checkWidth(unet, 'time_ids', 1, 6, 'SDXL base’s six size conditions; the refiner’s aesthetic-score conditioning is not supported');
    const decoder = VaeDecoder.describe(folder.vaeDecoderPath, sessions.get(folder.vaeDecoderPath), folder.scalingFactor);
    // diffusers registers force_zeros_for_empty_prompt=True unless the folder says otherwise.
    const forceZeros = folder.index.force_zeros_for_empty_prompt !== false;
    return new StableDiffusionXLPipeline([first, second], unet, decoder, forceZeros, describeTimestepCond(unet, folder));
  },
};
