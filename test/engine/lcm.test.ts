import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.ts';
import { guidanceScaleEmbedding } from '../../src/engine/pipeline/guidance-embedding.ts';
import type { Engine, GenerateRequest } from '../../src/engine/types.ts';
import { buildModel } from '../../src/models/builder/index.ts';
import { diffusersReference } from './diffusers-oracle.ts';
import { diffusersXlReference } from './diffusers-xl-oracle.ts';

/** torch's get_guidance_scale_embedding outputs, keyed "guidance/embedding_dim" (see the file's _source). */
const reference = JSON.parse(readFileSync(new URL('../reference/guidance-embedding.json', import.meta.url), 'utf8')) as Record<string, number[] | string>;
const torchEmbedding = (guidance: number, dim: number): Float32Array => Float32Array.from(reference[`${guidance.toFixed(1)}/${dim}`] as number[]);

describe('the guidance-scale embedding', () => {
  for (const key of Object.keys(reference).filter((k) => !k.startsWith('_'))) {
    const [guidance, dim] = key.split('/').map(Number) as [number, number];
    it(`w = ${guidance} − 1, ${dim} wide: torch's values, to the ulps of its float32 exp`, () => {
      const ours = guidanceScaleEmbedding(guidance, dim);
      const theirs = torchEmbedding(guidance, dim);
      expect(ours).toHaveLength(dim);
      // torch's vectorised float32 exp is within an ulp, not correctly rounded; an ulp of e_k
      // becomes an ulp of the angle w·1000·e_k (up to ~10⁻³ at w·1000 = 7500), and sin/cos pass
      // it on. So each value may differ by a few ulps of its angle, and no more.
      const half = Math.floor(dim / 2);
      for (let i = 0; i < dim; i++) {
        const k = i % half;
        const angle = Math.abs((guidance - 1) * 1000 * Math.exp((-k * Math.log(10000)) / (half - 1)));
        const bound = i >= 2 * half ? 0 : 3 * angle * 2 ** -24 + 2 ** -23;
        expect(Math.abs(ours[i]! - theirs[i]!), `value ${i}`).toBeLessThanOrEqual(bound);
      }
    });
  }
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

function maxByteDiff(a: Uint8Array, b: Uint8Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('an LCM-distilled UNet (timestep_cond input) gets the embedding and no guidance batch', () => {
  let root: string;
  let engine: Engine;
  let dir: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'imagine-lcm-'));
    dir = join(root, 'tiny-lcm');
    await buildModel(dir, { schedulerClass: 'LCMScheduler', unet: { timeCondProjDim: 32 } });
    engine = await createEngine({ modelDir: dir, provider: 'cpu', backend: 'in-thread' });
  });
  afterAll(async () => {
    await engine.close();
    await rm(root, { recursive: true, force: true });
  });

  const base: GenerateRequest = { prompt: 'a lighthouse at dusk', seed: 21, steps: 4, width: 32, height: 24 };

  // The oracle gets torch's own embedding, which can differ from ours by an ulp of a large angle
  // (see above): that may move a pixel by one level, never more. A wrong embedding moves many.
  for (const guidance of [8.5, 4, 1.5]) {
    it(`guidance ${guidance}: the LatentConsistencyModelPipeline transcription's pixels`, async () => {
      const result = await engine.generate({ ...base, guidance, count: 2 });
      expect(result.request.scheduler).toBe('lcm');
      const expected = await diffusersReference(dir, result.request, torchEmbedding(guidance, 32));
      result.images.forEach((image, i) => expect(maxByteDiff(image.rgb.data, expected[i]!)).toBeLessThanOrEqual(1));
    });
  }

  it('the negative prompt has no effect (no unconditional side), the guidance scale does', async () => {
    const a = await engine.generate({ ...base, guidance: 8.5, negativePrompt: 'fog' });
    const b = await engine.generate({ ...base, guidance: 8.5 });
    const c = await engine.generate({ ...base, guidance: 1.5 });
    expect(sameBytes(a.images[0]!.rgb.data, b.images[0]!.rgb.data)).toBe(true);
    expect(sameBytes(a.images[0]!.rgb.data, c.images[0]!.rgb.data)).toBe(false);
  });

  it('LCM-SDXL: the same on an SDXL UNet', async () => {
    const xl = join(root, 'tiny-lcm-sdxl');
    await buildModel(xl, { preset: 'tiny-sdxl', schedulerClass: 'LCMScheduler', unet: { timeCondProjDim: 32 } });
    const xlEngine = await createEngine({ modelDir: xl, provider: 'cpu', backend: 'in-thread' });
    try {
      const result = await xlEngine.generate({ ...base, guidance: 4, negativePrompt: 'ignored' });
      const expected = await diffusersXlReference(xl, result.request, torchEmbedding(4, 32));
      expect(maxByteDiff(result.images[0]!.rgb.data, expected[0]!)).toBeLessThanOrEqual(1);
    } finally {
      await xlEngine.close();
    }
  });
});
