import { describe, expect, it } from 'vitest';
import type { InteractionHandle } from '../discord/fake-discord.ts';
import { useCluster } from './cluster.ts';

/** The ❌ button on a job's reply. */
function cancelButton(interaction: InteractionHandle): { messageId: string; customId: string } | undefined {
  const message = interaction.original();
  const rows = message?.components as Array<{ components?: Array<{ custom_id?: string }> }> | undefined;
  const customId = rows?.[0]?.components?.[0]?.custom_id;
  return message && customId?.startsWith('imagine:cancel:') ? { messageId: message.id, customId } : undefined;
}

describe('distributed mode: progress and cancel across processes', () => {
  const scene = useCluster();

  it('the worker shows previews on the reply; ❌ on the gateway removes a waiting job and stops a running one', async () => {
    const { cluster } = scene;
    const { world } = cluster;
    const worker = await cluster.startWorker('w1');
    await cluster.startGateway();

    const running = await cluster.submit(world.alice, { prompt: 'long one', steps: 60 });
    const waiting = await cluster.submit(world.alice, { prompt: 'waiting one', steps: 3 });
    const contentOf = (interaction: InteractionHandle) => interaction.original()?.content ?? '';

    // Previews come from the worker, straight into the interaction reply.
    await world.fake.waitFor(() => running.interaction.edits.some((edit) => edit.ok && edit.attachments.length > 0 && String(edit.body?.content).includes('Generating')) || undefined, {
      timeoutMs: 60_000,
      message: 'a preview on the running job',
    });
    await world.fake.waitFor(() => contentOf(waiting.interaction).startsWith('⏳ Queued — next in line') || undefined, { timeoutMs: 30_000 });

    await world.fake.pressButton({ userId: world.alice, channelId: world.channel.id, ...cancelButton(waiting.interaction)! });
    await world.fake.waitFor(() => contentOf(waiting.interaction).startsWith(`❌ Cancelled — by <@${world.alice}>.`) || undefined, { timeoutMs: 30_000 });

    await world.fake.pressButton({ userId: world.moderator, channelId: world.channel.id, ...cancelButton(running.interaction)! });
    await world.fake.waitFor(() => contentOf(running.interaction).startsWith(`❌ Cancelled — by <@${world.moderator}>.`) || undefined, { timeoutMs: 30_000 });
    await cluster.waitForLog(worker, 'job cancelled while running', 30_000, running.jobId);

    expect(worker.logged('job taken', waiting.jobId)).toHaveLength(0);
    expect(cluster.results()).toHaveLength(0);
  }, 480_000);
});
