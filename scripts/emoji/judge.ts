import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../../src/engine/index.ts';

/** The committed judge: a CNN trained apart from emoji-sd (training/train_judge.py) on real emoji. */
export const JUDGE_DIR = fileURLToPath(new URL('../../models/emoji-judge/', import.meta.url));
const SIZE = 64;

export interface JudgeFigures {
  heldout_top1: number;
  heldout_top5: number;
  heldout_emoji: number;
  heldout_images: number;
}

/** An image classifier naming the emoji subcategory ("food-fruit", "animal-mammal", …) of a 64×64 picture. */
export class EmojiJudge {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly labels: readonly string[],
    readonly figures: JudgeFigures,
  ) {}

  static async load(dir = JUDGE_DIR): Promise<EmojiJudge> {
    const meta = JSON.parse(await readFile(join(dir, 'judge.json'), 'utf8')) as JudgeFigures & { labels: string[] };
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), { intraOpNumThreads: 1 });
    return new EmojiJudge(session, meta.labels, meta);
  }

  /** Subcategories from most to least likely. */
  async rank(image: RgbImage): Promise<string[]> {
    if (image.width !== SIZE || image.height !== SIZE) throw new Error(`the judge reads ${SIZE}×${SIZE} images, got ${image.width}×${image.height}`);
    const planar = new Float32Array(3 * SIZE * SIZE);
    for (let i = 0; i < SIZE * SIZE; i++) {
      for (let c = 0; c < 3; c++) planar[c * SIZE * SIZE + i] = image.data[i * 3 + c]! / 255;
    }
    const output = await this.session.run({ image: new ort.Tensor('float32', planar, [1, 3, SIZE, SIZE]) });
    const logits = output.logits!.data as Float32Array;
    return [...this.labels.keys()].sort((a, b) => logits[b]! - logits[a]!).map((index) => this.labels[index]!);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
