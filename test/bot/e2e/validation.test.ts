import { describe, expect, it } from 'vitest';
import { imagine, privateReplies, settings, useWorld } from './harness.ts';

describe('bad input end to end', () => {
  const scene = useWorld();

  it.each([
    [{ steps: 500 }, 'steps must be a whole number from 1 to 150.'],
    [{ seed: 4294967296 }, 'seed must be a whole number from 0 to 4294967295.'],
    [{ guidance: 99 }, 'guidance must be a number from 0 to 30.'],
    [{ count: 9 }, 'count must be a whole number from 1 to 4.'],
    [{ size: 'enormous' }, 'size must be square, portrait or landscape.'],
  ])('refuses %j privately without queueing anything', async (bad, message) => {
    const w = scene.world;
    const running = await scene.startBot();
    const interaction = await imagine(w, w.alice, { prompt: 'a cat', ...bad });
    const reply = await interaction.waitForResponse();
    expect(reply.type).toBe(4);
    expect(reply.ephemeral).toBe(true);
    expect(reply.data?.content).toBe(message);
    expect(await running.bot.context.jobs.view()).toEqual({ running: [], queued: [] });
    expect(running.engine.requests).toHaveLength(0);
  });

  it('refuses prompts with a banned word (whole word, any case)', async () => {
    const w = scene.world;
    const running = await scene.startBot();
    await (await settings(w, w.moderator, 'set', { banned_words: 'gore, spider' })).waitForResponse();
    const refused = await imagine(w, w.alice, { prompt: 'A giant SPIDER in a web' });
    await refused.waitForResponse();
    expect(privateReplies(refused)).toEqual(['Your prompt contains “spider”, which is not allowed in this channel.']);
    const allowed = await imagine(w, w.alice, { prompt: 'spiderwort flowers', steps: 2 });
    expect((await allowed.waitForResponse()).type).toBe(5);
    expect(running.engine.requests.map((request) => request.prompt)).not.toContain('A giant SPIDER in a web');
  });
});
