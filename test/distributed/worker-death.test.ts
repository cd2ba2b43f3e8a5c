import { describe, expect, it } from 'vitest';
import { embedField, isResult, waitForResult } from '../bot/e2e/harness.ts';
import { useCluster } from './cluster.ts';

describe('distributed mode: a worker that dies or stops', () => {
  const scene = useCluster({ lockMs: 3000, graceMs: 0 });

  it('kill -9 of a worker mid-job: the job completes on the other worker, with exactly one final message', async () => {
    const { cluster } = scene;
    const { world } = cluster;
    const workers = [await cluster.startWorker('w1'), await cluster.startWorker('w2')];
    await cluster.startGateway();

    const interaction = await cluster.imagine(world.alice, { prompt: 'a lighthouse', seed: 1234, steps: 20 });
    const jobId = await cluster.jobIdOf(interaction);
    await world.fake.waitFor(() => (interaction.original()?.content ?? '').includes('Generating') || undefined, { timeoutMs: 60_000 });
    const taken = cluster.logged('job taken', jobId)[0];
    const victim = workers.find((worker) => worker.name === taken?.proc);
    const survivor = workers.find((worker) => worker !== victim);
    expect(victim && survivor).toBeTruthy();
    await victim!.kill('SIGKILL');

    const result = await waitForResult(world, interaction, 180_000);
    expect(embedField(result, 'Seed')).toBe('1234');
    await cluster.waitForLog(survivor!, 'job delivered', 30_000, jobId);
    expect(survivor!.logged('job taken', jobId)).toHaveLength(1);
    // One final message: the reply itself, edited; nothing else in the channel shows a result.
    expect(cluster.results().map((message) => message.id)).toEqual([result.id]);
    expect(interaction.edits.filter((edit) => edit.ok && isResult(edit.message))).toHaveLength(1);
  }, 480_000);

  it('SIGTERM with a job running past the grace period: the job is handed back and finishes on the other worker', async () => {
    const { cluster } = scene;
    const { world } = cluster;
    const workers = [await cluster.startWorker('w1'), await cluster.startWorker('w2')];
    await cluster.startGateway();

    const interaction = await cluster.imagine(world.bob, { prompt: 'a windmill', seed: 77, steps: 20 });
    const jobId = await cluster.jobIdOf(interaction);
    await world.fake.waitFor(() => (interaction.original()?.content ?? '').includes('Generating') || undefined, { timeoutMs: 60_000 });
    const stopping = workers.find((worker) => worker.name === cluster.logged('job taken', jobId)[0]?.proc)!;
    const other = workers.find((worker) => worker !== stopping)!;
    // No grace at all (IMAGINE_SHUTDOWN_GRACE_MS=0): the running job is handed back at once.
    expect(await stopping.kill('SIGTERM')).toBe(0);
    expect(stopping.logged('job handed back to the queue', jobId)).toHaveLength(1);

    const result = await waitForResult(world, interaction, 180_000);
    expect(embedField(result, 'Seed')).toBe('77');
    await cluster.waitForLog(other, 'job delivered', 30_000, jobId);
    expect(cluster.results().map((message) => message.id)).toEqual([result.id]);
  }, 480_000);
});
