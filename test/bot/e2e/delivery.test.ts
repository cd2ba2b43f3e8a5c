import { PermissionFlagsBits } from 'discord.js';
import { describe, expect, it } from 'vitest';
import type { InteractionHandle } from '../../discord/fake-discord.ts';
import { imagine, isResult, useWorld, type Scene, type World } from './harness.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Everything but sending messages (and so attaching files) in the channel. */
const CANNOT_POST = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ReadMessageHistory | PermissionFlagsBits.AddReactions;

/** Takes Send Messages away from the bot (its own role and @everyone, whose id is the guild's). */
function revokePosting(w: World): void {
  w.fake.setBotPermissions(w.guild.id, CANNOT_POST);
  w.fake.setRolePermissions(w.guild.id, w.guild.id, CANNOT_POST);
}

async function untilGenerating(w: World, handle: InteractionHandle): Promise<void> {
  await w.fake.waitFor(() => (handle.original()?.content ?? '').includes('Generating') || undefined, { timeoutMs: 30_000 });
}

function channelResultFor(w: World, userId: string) {
  return w.fake.waitFor(() => w.fake.messages(w.channel.id).find((m) => isResult(m) && m.content.includes(`<@${userId}>`) && !m.interaction_metadata), {
    timeoutMs: 60_000,
    message: 'the result never reached the channel',
  });
}

/** The delivery is recorded just after the message lands. */
function delivered(w: World, logs: string[]) {
  return w.fake.waitFor(() => logs.some((line) => line.includes('"msg":"job delivered"')) || undefined, { timeoutMs: 10_000 });
}

async function history(w: World, userId: string): Promise<InteractionHandle> {
  const shown = await w.fake.sendCommand({ userId, guildId: w.guild.id, channelId: w.channel.id, name: 'imagine-history' });
  await shown.waitForResponse();
  return shown;
}

const historyText = (handle: InteractionHandle) =>
  String(((handle.responses[0]?.data?.embeds as Array<{ description?: string }> | undefined) ?? [])[0]?.description ?? '');

async function startBot(scene: Scene) {
  // A slow enough job to act on it while it runs, on the real or the fake engine.
  return scene.startBot({ previewIntervalMs: 200 });
}

describe('a finished image always reaches its owner', () => {
  const scene = useWorld();

  it('reply deleted while the job ran (10008): the result goes to the channel, pinging the owner', async () => {
    const w = scene.world;
    const bot = await startBot(scene);
    const job = await imagine(w, w.alice, { prompt: 'a drowned city', steps: 12 });
    await untilGenerating(w, job);
    // A moderator deletes the bot's reply mid-job.
    const deleted = await fetch(`${w.fake.restUrl}/v10/webhooks/${w.fake.applicationId}/${job.token}/messages/@original`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);

    const result = await channelResultFor(w, w.alice);
    expect(result.attachments[0]?.data?.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(bot.logs.join('')).toContain('"code":10008');
    await delivered(w, bot.logs);
    expect(historyText(await history(w, w.alice))).toContain(`✅ [in <#${w.channel.id}>]`);
  });

  it('upload refused as too large (413): sent again as smaller WebP', async () => {
    const w = scene.world;
    const bot = await startBot(scene);
    const job = await imagine(w, w.alice, { prompt: 'a drowned city', steps: 12 });
    await untilGenerating(w, job);
    job.expire();
    w.fake.injectFault({ method: 'POST', path: `/channels/${w.channel.id}/messages`, status: 413, code: 40005, times: 1 });

    const result = await channelResultFor(w, w.alice);
    expect(result.attachments.map((a) => a.filename)).toEqual([expect.stringMatching(/\.webp$/)]);
    expect(bot.logs.join('')).toContain('Discord refused the upload as too large; sending smaller images');
  });

  it('expired token and no access to the channel: the image comes by DM, and /imagine-history says so', async () => {
    const w = scene.world;
    const bot = await startBot(scene);
    const job = await imagine(w, w.alice, { prompt: 'a drowned city', steps: 12 });
    await untilGenerating(w, job);
    job.expire();
    revokePosting(w);

    const dm = await w.fake.waitFor(() => w.fake.dmChannel(w.alice), { timeoutMs: 60_000, message: 'no DM was opened' });
    const sent = await w.fake.waitFor(() => w.fake.messages(dm.id).find((m) => m.attachments.length > 0), { timeoutMs: 30_000 });
    expect(sent.content).toBe(`I could not post your image in <#${w.channel.id}>, so here it is.`);
    expect(sent.attachments[0]?.data?.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(w.fake.messages(w.channel.id).filter(isResult)).toEqual([]);
    await delivered(w, bot.logs);
    expect(historyText(await history(w, w.alice))).toContain('✉️ [sent to you by DM]');
  });

  it('no route works (no channel access, DMs closed): kept, and the owner gets it from /imagine-history with 📥', async () => {
    const w = scene.world;
    const bot = await startBot(scene);
    const job = await imagine(w, w.alice, { prompt: 'a drowned city', steps: 12 });
    await untilGenerating(w, job);
    job.expire();
    revokePosting(w);
    w.fake.setAcceptsDms(w.alice, false);
    await w.fake.waitFor(() => bot.logs.some((line) => line.includes('it is kept for /imagine-history')) || undefined, { timeoutMs: 60_000 });

    const shown = await history(w, w.alice);
    expect(historyText(shown)).toMatch(/^1\. “a drowned city” · seed \d+ · <t:\d+:R>\n {3}⚠️ not delivered — press 📥 1 to get it$/);
    const button = (shown.responses[0]?.data?.components as Array<{ components: Array<{ custom_id: string }> }>)[0]?.components[0];
    expect(button?.custom_id).toMatch(/^imagine:fetch:[0-9a-f]+$/);

    // Someone else cannot take it.
    const stranger = await w.fake.pressButton({ userId: w.bob, channelId: w.channel.id, messageId: shown.original()!.id, customId: button!.custom_id });
    const refused = await stranger.waitForResponse();
    expect(refused.ephemeral).toBe(true);
    expect(refused.attachments).toEqual([]);

    const pressed = await w.fake.pressButton({ userId: w.alice, channelId: w.channel.id, messageId: shown.original()!.id, customId: button!.custom_id });
    const reply = await pressed.waitForResponse();
    expect(reply.ephemeral).toBe(true);
    const png = reply.attachments[0]?.data;
    expect(png?.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    // The engine's PNG, parameters chunk and all.
    expect(png?.toString('latin1')).toContain('a drowned city');
  });
});
