import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/models/builder/index.ts';
import { embedField, waitForResult } from '../bot/e2e/harness.ts';
import { useCluster } from './cluster.ts';

describe('distributed mode: model choice', () => {
  const scene = useCluster();

  it('/imagine model: routes the job to a worker serving that model, at that model’s sizes', async () => {
    const { cluster } = scene;
    const { world } = cluster;
    const sd = path.join(cluster.modelsDir, 'tiny-sd');
    const xl = path.join(cluster.modelsDir, 'tiny-xl');
    await buildModel(xl, { preset: 'tiny-sdxl', unet: { sampleSize: 32 } });
    await cluster.startWorker('w1', { IMAGINE_MODELS: `${sd},${xl}` });
    await cluster.startGateway();

    const suggestions = await world.fake.sendAutocomplete({
      userId: world.alice,
      channelId: world.channel.id,
      name: 'imagine',
      options: [{ name: 'model', type: 3, value: '', focused: true } as never],
    });
    expect((await suggestions.waitForResponse()).data?.choices).toEqual([
      { name: 'tiny-sd · SD · 512×512', value: 'tiny-sd' },
      { name: 'tiny-xl · SDXL · 256×256', value: 'tiny-xl' },
    ]);

    const chosen = await cluster.imagine(world.alice, { prompt: 'a tower', model: 'tiny-xl', size: 'landscape', steps: 1 });
    const result = await waitForResult(world, chosen, 120_000);
    expect(embedField(result, 'Model')).toBe('tiny-xl');
    expect(embedField(result, 'Size')).toBe('288×224');
    const plain = await cluster.imagine(world.bob, { prompt: 'a tower', steps: 1 });
    expect(embedField(await waitForResult(world, plain, 120_000), 'Model')).toBe('tiny-sd');
  });
});
