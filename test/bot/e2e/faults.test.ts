import { describe, expect, it } from 'vitest';
import type { Engine, GenerateOptions, GenerateRequest } from '../../../src/engine/types.ts';
import type { FaultSpec } from '../../discord/fake-discord.ts';
import { embedField, imagine, isResult, makeEngine, privateReplies, useWorld, waitForResult } from './harness.ts';

const ORIGINAL = /^\/webhooks\/\d+\/[^/]+\/messages\/@original$/;

/** Runs `beforeDelivery` when generation has finished, just before the bot delivers the result. */
function withHook(engine: Engine, beforeDelivery: () => void): Engine {
  return {
    info: engine.info,
    close: () => engine.close(),
    async generate(request: GenerateRequest, options?: GenerateOptions) {
      const result = await engine.generate(request, options);
      beforeDelivery();
      return result;
    },
  };
}

describe('Discord failures end to end', () => {
  const scene = useWorld();

  it('the final image still arrives through 429s and a 5xx on its edit', async () => {
    const w = scene.world;
    const faults: FaultSpec[] = [
      { method: 'PATCH', path: ORIGINAL, status: 429, retryAfterSec: 1, times: 2 },
      { method: 'PATCH', path: ORIGINAL, status: 502, times: 1 },
    ];
    const engine = withHook(await makeEngine(), () => faults.forEach((fault) => w.fake.injectFault(fault)));
    await scene.startBot({ engine });
    const interaction = await imagine(w, w.alice, { prompt: 'stormy sea', seed: 7, steps: 4 });
    const result = await waitForResult(w, interaction, 30_000);
    expect(embedField(result, 'Seed')).toBe('7');
    const statuses = interaction.edits.map((edit) => edit.status);
    expect(statuses).toContain(429);
    expect(statuses).toContain(502);
    expect(interaction.edits.at(-1)?.ok).toBe(true);
  });

  it('a rate-limited preview backs off for its Retry-After and does not hold back the final image', async () => {
    const w = scene.world;
    const running = await scene.startBot({ engine: await makeEngine({ stepDelayMs: 100 }), previewIntervalMs: 200 });
    const interaction = await imagine(w, w.alice, { prompt: 'lanterns', steps: 8 });
    // The first status edit after this is refused with a 20 s Retry-After.
    w.fake.injectFault({ method: 'PATCH', path: ORIGINAL, status: 429, retryAfterSec: 20, times: 1 });
    const result = await waitForResult(w, interaction, 30_000);
    expect(Date.now() - running.engine.completedAt[0]!).toBeLessThan(3000);
    expect(isResult(result)).toBe(true);
    const rateLimitedAt = interaction.edits.findIndex((edit) => edit.status === 429);
    expect(rateLimitedAt).toBeGreaterThanOrEqual(0);
    // No preview was retried or sent during the back-off: the next edit is the final one.
    const after = interaction.edits.slice(rateLimitedAt + 1);
    expect(after).toHaveLength(1);
    expect(isResult(after[0]?.message)).toBe(true);
  });

  it('a hanging preview edit does not hold back the final image', async () => {
    const w = scene.world;
    const running = await scene.startBot({ engine: await makeEngine({ stepDelayMs: 100 }), previewIntervalMs: 200 });
    const interaction = await imagine(w, w.alice, { prompt: 'slow network', steps: 6 });
    await interaction.waitForResponse();
    // The next status edit hangs for longer than the whole job takes.
    w.fake.injectFault({ method: 'PATCH', path: ORIGINAL, delayMs: 15_000, times: 1 });
    await w.fake.waitFor(() => interaction.edits.some((edit) => edit.ok && isResult(edit.message)) || undefined, { timeoutMs: 30_000 });
    // Delivered within the settle time (1 s) of the generation finishing, not after the hang.
    expect(Date.now() - running.engine.completedAt[0]!).toBeLessThan(3000);
  });

  it('a job that finishes after its interaction token expired arrives as a channel message replying to the original', async () => {
    const w = scene.world;
    let interactionToken = '';
    const engine = withHook(await makeEngine(), () => w.fake.expireToken(interactionToken));
    await scene.startBot({ engine });
    const interaction = await imagine(w, w.alice, { prompt: 'late delivery', seed: 99, steps: 4 });
    interactionToken = interaction.token;
    await w.fake.waitFor(() => interaction.edits.some((edit) => edit.ok) || undefined);
    const original = interaction.original();
    const delivered = await w.fake.waitFor(
      () => w.fake.messages(w.channel.id).find((message) => isResult(message) && message.id !== original?.id),
      { timeoutMs: 30_000 },
    );
    expect(embedField(delivered, 'Seed')).toBe('99');
    expect(delivered.message_reference?.message_id).toBe(original?.id);
    expect(delivered.content).toContain(`<@${w.alice}>`);
    expect(interaction.edits.some((edit) => edit.status === 401)).toBe(true);
  });

  it('missing permissions are logged and reported privately where possible', async () => {
    const w = scene.world;
    const running = await scene.startBot();
    const interaction = await imagine(w, w.alice, { prompt: 'a kite', steps: 2 });
    const result = await waitForResult(w, interaction);
    w.fake.injectFault({ method: 'POST', path: /^\/channels\/\d+\/messages$/, status: 403, code: 50013, times: 1 });
    const press = await w.fake.pressButton({ userId: w.bob, channelId: w.channel.id, messageId: result.id, customId: 'imagine:reroll' });
    await press.waitForResponse();
    await w.fake.waitFor(() => privateReplies(press).find((text) => text.startsWith('I am missing permissions to post in this channel')));
    expect(running.logs.join('')).toContain('could not post the reroll message');
  });
});
