import { describe, expect, it } from 'vitest';
import type { InteractionHandle } from '../../discord/fake-discord.ts';
import { imagine, makeEngine, privateReplies, useWorld, waitForResult, type World } from './harness.ts';

describe('cancel and shutdown end to end', () => {
  const scene = useWorld();

  /** The ❌ button on a job's reply, once the reply shows it. */
  async function cancelButton(w: World, interaction: InteractionHandle): Promise<{ messageId: string; customId: string }> {
    return w.fake.waitFor(() => {
      const message = interaction.original();
      const rows = message?.components as Array<{ components?: Array<{ custom_id?: string }> }> | undefined;
      const button = rows?.[0]?.components?.[0];
      return message && button?.custom_id?.startsWith('imagine:cancel:') ? { messageId: message.id, customId: button.custom_id } : undefined;
    });
  }

  const contentOf = (interaction: InteractionHandle) => interaction.original()?.content ?? '';

  it('cancels a queued job and a running one; others are refused', async () => {
    const w = scene.world;
    const running = await scene.startBot({ engine: await makeEngine({ stepDelayMs: 100 }) });
    const first = await imagine(w, w.alice, { prompt: 'long one', steps: 40 });
    const second = await imagine(w, w.alice, { prompt: 'waiting one', steps: 3 });
    const third = await imagine(w, w.bob, { prompt: 'bob waits', steps: 3 });

    // Someone else's queued job: refused, privately.
    const secondButton = await cancelButton(w, second);
    const byBob = await w.fake.pressButton({ userId: w.bob, channelId: w.channel.id, ...secondButton });
    await byBob.waitForResponse();
    expect(privateReplies(byBob)).toEqual(['Only the person who started this job, or a moderator, can cancel it.']);

    // The owner cancels the queued one: it never reaches the engine.
    await w.fake.pressButton({ userId: w.alice, channelId: w.channel.id, ...secondButton });
    await w.fake.waitFor(() => contentOf(second).startsWith(`❌ Cancelled — by <@${w.alice}>.`) || undefined);

    // A moderator cancels the running one: the engine stops between steps, the next job starts.
    await w.fake.waitFor(() => contentOf(first).includes('Generating') || undefined);
    await w.fake.pressButton({ userId: w.moderator, channelId: w.channel.id, ...(await cancelButton(w, first)) });
    await w.fake.waitFor(() => contentOf(first).startsWith(`❌ Cancelled — by <@${w.moderator}>.`) || undefined);
    expect(first.original()?.attachments).toEqual([]);

    await waitForResult(w, third);
    expect(running.engine.cancelledPrompts).toEqual(['long one']);
    expect(running.engine.requests.map((request) => request.prompt)).toEqual(['long one', 'bob waits']);
  });

  it('on shutdown, queued users are told and the running job is cancelled after the grace period', async () => {
    const w = scene.world;
    const running = await scene.startBot({ engine: await makeEngine({ stepDelayMs: 100 }), shutdownGraceMs: 300 });
    const first = await imagine(w, w.alice, { prompt: 'too long', steps: 100 });
    const queued = await imagine(w, w.bob, { prompt: 'never runs', steps: 3 });
    await w.fake.waitFor(() => contentOf(queued).startsWith('⏳') || undefined);

    await running.stop();
    expect(contentOf(queued)).toMatch(/^❌ Cancelled — the bot is shutting down/);
    expect(contentOf(first)).toMatch(/^❌ Cancelled — the bot is shutting down/);
    expect(running.engine.requests.map((request) => request.prompt)).toEqual(['too long']);
  });

  it('on shutdown, a job that finishes within the grace period is delivered', async () => {
    const w = scene.world;
    // A grace period no loaded machine can outlast: the job must finish inside it, however slowly.
    const running = await scene.startBot({ shutdownGraceMs: 240_000 });
    const job = await imagine(w, w.alice, { prompt: 'almost done', steps: 10 });
    await w.fake.waitFor(() => contentOf(job).includes('Generating') || undefined);
    await running.stop();
    await waitForResult(w, job, 1000);
    const late = await imagine(w, w.bob, { prompt: 'after stop' });
    await expect(late.waitForResponse({ timeoutMs: 3500 })).rejects.toThrow();
  });
});
