import { ModelFileError } from '../../model/files.ts';
import { loadClipTokenizer } from '../../tokenizer/clip-tokenizer.ts';
import type { ResolvedRequest, RgbImage } from '../../types.ts';
import { fixedConditioning, type UnetConditioning } from '../conditioning.ts';
import { describeTimestepCond, timestepCondFeed, type TimestepCondInput } from '../guidance-embedding.ts';
import { concatRows, repeatRows, type LatentShape } from '../latent-shape.ts';
import { latentPreview } from '../preview.ts';
import { VaeDecoder } from '../stages/decode.ts';
import { describeTextEncoder, encodePrompt, type TextEncoderPart } from '../stages/encode-prompt.ts';
import { floatTensor } from '../tensors.ts';
import { describeUnet, floatInputType, type UnetPart } from '../unet.ts';
import type { FamilyContext, FamilyDefinition, FamilyPipeline } from './family.ts';

/**
 * diffusers' StableDiffusionPipeline (SD 1.x/2.x): CLIP's last hidden state as the UNet's
 * `encoder_hidden_states`; under guidance the negative prompt ("" when none is given) is the
 * unconditional half. An LCM-distilled UNet (`timestep_cond` input) gets the guidance embedding
 * instead of a guidance batch, as LatentConsistencyModelPipeline does.
 */
class StableDiffusionPipeline implements FamilyPipeline {
  get promptTokenizer() {
    return this.encoder.tokenizer;
  }

  readonly family = 'sd';
  readonly latentChannels = 4;

  constructor(
    private readonly encoder: TextEncoderPart,
    readonly unet: UnetPart,
    readonly decoder: VaeDecoder,
    private readonly timestepCond: TimestepCondInput | undefined,
  ) {}

  async encode(request: ResolvedRequest): Promise<UnetConditioning> {
    const useGuidance = request.guidance > 1 && !this.timestepCond;
    const positive = await encodePrompt(this.encoder, request.prompt);
    const rows = [repeatRows(positive.hidden, request.count)];
    if (useGuidance) rows.unshift(repeatRows((await encodePrompt(this.encoder, request.negativePrompt ?? '')).hidden, request.count));
    const context = this.unet.conditioningInputs.get('encoder_hidden_states')!;
    const dims = [request.count * rows.length, positive.tokens, positive.width];
    return fixedConditioning(useGuidance ? 2 : 1, request.guidance, {
      [context.name]: floatTensor(floatInputType(this.unet.path, context), concatRows(rows), dims),
      ...(this.timestepCond && timestepCondFeed(this.timestepCond, request.guidance, request.count)),
    });
  }

  preview(latents: Float32Array, shape: LatentShape): RgbImage {
    return latentPreview(latents, shape.width, shape.height);
  }
}

export const sdFamily: FamilyDefinition = {
  defaultSampleSize: 64,
  sessionPaths: (folder) => [folder.textEncoderPath, folder.unetPath, folder.vaeDecoderPath],
  async assemble({ folder, sessions }: FamilyContext): Promise<FamilyPipeline> {
    const tokenizer = await loadClipTokenizer(folder.tokenizerDir);
    const encoder = describeTextEncoder(folder.textEncoderPath, 'text_encoder', sessions.get(folder.textEncoderPath), tokenizer, { layer: 'last', pooled: false });
    const unet = describeUnet(folder.unetPath, sessions.get(folder.unetPath), {
      channels: 4,
      fillable: ['encoder_hidden_states', 'timestep_cond'],
      required: ['encoder_hidden_states'],
      family: 'Stable Diffusion',
    });
    const context = unet.conditioningInputs.get('encoder_hidden_states')!;
    const contextWidth = context.isTensor ? context.shape.at(2) : undefined;
    if (typeof contextWidth === 'number' && contextWidth > 0 && encoder.hiddenWidth !== undefined && encoder.hiddenWidth !== contextWidth) {
      throw new ModelFileError(
        folder.unetPath,
        `encoder_hidden_states width ${contextWidth} does not match the text encoder's output width ${encoder.hiddenWidth}: the parts come from different models`,
      );
    }
    const decoder = VaeDecoder.describe(folder.vaeDecoderPath, sessions.get(folder.vaeDecoderPath), folder.scalingFactor);
    return new StableDiffusionPipeline(encoder, unet, decoder, describeTimestepCond(unet, folder));
  },
};
