import { describe, expect, it } from 'vitest';
import { imagine, makeEngine, privateReplies, useWorld, waitForResult } from './harness.ts';

describe('queue fairness end to end', () => {
  const scene = useWorld();

  it("runs B's job second when A queued three first, refuses A's fourth, and shows positions", async () => {
    const w = scene.world;
    const running = await scene.startBot({ engine: await makeEngine({ stepDelayMs: 60 }) });
    const a1 = await imagine(w, w.alice, { prompt: 'A1', steps: 20 }); // long enough to watch the queue
    const a2 = await imagine(w, w.alice, { prompt: 'A2', steps: 5 });
    const a3 = await imagine(w, w.alice, { prompt: 'A3', steps: 5 });
    const a4 = await imagine(w, w.alice, { prompt: 'A4', steps: 5 });
    const b1 = await imagine(w, w.bob, { prompt: 'B1', steps: 5 });
    for (const interaction of [a1, a2, a3, a4, b1]) expect((await interaction.waitForResponse()).at).toBeLessThan(3000);

    // A's fourth: two already waiting (the running one does not count) → refused, privately.
    expect(privateReplies(a4).join()).toMatch(/You already have 2 jobs waiting/);

    // B's reply shows its place in line: next, ahead of A2 and A3.
    await w.fake.waitFor(() => b1.edits.find((edit) => edit.ok && String(edit.body?.content).includes('next in line')));
    await w.fake.waitFor(() => a3.edits.find((edit) => edit.ok && String(edit.body?.content).includes('position 3')));

    const queueView = await w.fake.sendCommand({ userId: w.bob, channelId: w.channel.id, name: 'queue' });
    const queueReply = await queueView.waitForResponse();
    expect(queueReply.ephemeral).toBe(true);
    const fields = (queueReply.data?.embeds as Array<{ fields: Array<{ name: string; value: string }> }>)[0]?.fields ?? [];
    expect(fields.find((field) => field.name === 'Running')?.value).toContain(`<@${w.alice}> — A1`);
    expect(fields.find((field) => field.name.startsWith('Waiting'))?.value).toMatch(new RegExp(`1\\. <@${w.bob}> — B1\\n2\\. <@${w.alice}> — A2\\n3\\. <@${w.alice}> — A3`));
    expect(fields.find((field) => field.name === 'Model')?.value).toBe(running.engine.info.model.name);

    // Generous: on a loaded machine the real engine takes a while; the order is what is checked.
    await Promise.all([a1, a2, a3, b1].map((interaction) => waitForResult(w, interaction, 120_000)));
    expect(running.engine.startOrder).toEqual(['A1', 'B1', 'A2', 'A3']);
    expect(running.engine.requests.map((request) => request.prompt)).not.toContain('A4');
    // Positions were updated as the queue moved: A3 went from 3rd to 2nd to next.
    const a3Positions = a3.edits.filter((edit) => edit.ok).map((edit) => String(edit.body?.content).split('\n')[0]);
    expect(a3Positions).toContain('⏳ Queued — next in line.');
  });

  it('/queue shows only the server it is used in: no prompts or members from other servers', async () => {
    const w = scene.world;
    await scene.startBot({ engine: await makeEngine({ stepDelayMs: 60 }) });
    const other = w.fake.addGuild({ name: 'other guild' });
    const otherChannel = w.fake.addChannel(other.id, { name: 'secret-art' });
    const carol = w.fake.addUser({ username: 'carol' }).id;
    w.fake.addMember(other.id, carol);

    const mine = await imagine(w, w.alice, { prompt: 'our harbour', steps: 20 });
    await w.fake.waitFor(() => (mine.original()?.content ?? '').includes('Generating') || undefined, { timeoutMs: 30_000 });
    const theirs = await w.fake.sendCommand({
      userId: carol,
      guildId: other.id,
      channelId: otherChannel.id,
      name: 'imagine',
      options: [{ name: 'prompt', type: 3, value: 'their secret plan' }, { name: 'steps', type: 4, value: 2 }],
    });
    await w.fake.waitFor(() => (theirs.original()?.content ?? '').startsWith('⏳') || undefined, { timeoutMs: 30_000 });
    const ours = await imagine(w, w.bob, { prompt: 'our lighthouse', steps: 2 });
    await w.fake.waitFor(() => (ours.original()?.content ?? '').startsWith('⏳') || undefined, { timeoutMs: 30_000 });

    const view = async (userId: string, guildId: string, channelId: string) => {
      const handle = await w.fake.sendCommand({ userId, guildId, channelId, name: 'queue' });
      const reply = await handle.waitForResponse();
      return JSON.stringify(reply.data?.embeds);
    };
    const fromHere = await view(w.bob, w.guild.id, w.channel.id);
    expect(fromHere).toContain('our harbour');
    expect(fromHere).toContain(`2. <@${w.bob}> — our lighthouse`);
    expect(fromHere).toContain('1 job from another server also waiting');
    expect(fromHere).not.toContain('their secret plan');
    expect(fromHere).not.toContain(carol);

    const fromThere = await view(carol, other.id, otherChannel.id);
    expect(fromThere).toContain(`1. <@${carol}> — their secret plan`);
    expect(fromThere).toContain('…and 1 job from another server');
    for (const leaked of ['our harbour', 'our lighthouse', w.alice, w.bob]) expect(fromThere).not.toContain(leaked);
  });
});
