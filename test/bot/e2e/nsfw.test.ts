import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PermissionFlagsBits } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/index.ts';
import { buildModel } from '../../../src/models/builder/index.ts';
import type { FakeChannel, FakeMessage } from '../../discord/fake-discord.ts';
import { embedOf, options, privateReplies, useWorld, waitForResult, type World } from './harness.ts';

/**
 * Three real tiny models at 64 px: two with the builder's safety checker, which flags an image when
 * the mean of its CLIP-normalised pixels is over a threshold — below every image (`flags`: every
 * image flagged) or above every image (`clean`: none) — and `unchecked`, with no checker at all.
 */
let modelDirs: Promise<string[]> | undefined;
function servedModels(): Promise<string[]> {
  modelDirs ??= mkdtemp(path.join(tmpdir(), 'imagine-nsfw-e2e-')).then(async (root) => {
    const unet = { sampleSize: 8 };
    const dirs = { flags: path.join(root, 'flags'), clean: path.join(root, 'clean'), unchecked: path.join(root, 'unchecked') };
    await buildModel(dirs.flags, { unet, safetyChecker: true, safetyThreshold: -10 });
    await buildModel(dirs.clean, { unet, safetyChecker: true, safetyThreshold: 10 });
    await buildModel(dirs.unchecked, { unet });
    return [dirs.clean, dirs.flags, dirs.unchecked];
  });
  return modelDirs;
}

async function startPolicyBot(scene: ReturnType<typeof useWorld>) {
  const engine = await createEngine({ modelDirs: await servedModels(), defaultModel: 'clean', provider: 'cpu' });
  // Nothing vouched for: models without a checker follow the channel's rules.
  return scene.startBot({ engine, moderation: { sfwModels: [] } });
}

function imagineIn(w: World, channel: FakeChannel, userId: string, model: string, extra: Record<string, string | number> = {}) {
  return w.fake.sendCommand({ userId, guildId: w.guild.id, channelId: channel.id, name: 'imagine', options: options({ prompt: 'a lighthouse', steps: 2, seed: 7, model, ...extra }) });
}

function settingsIn(w: World, channel: FakeChannel, userId: string, subcommand: 'show' | 'set' | 'server', values: Record<string, string | boolean> = {}) {
  return w.fake.sendCommand({
    userId,
    guildId: w.guild.id,
    channelId: channel.id,
    name: 'settings',
    options: [{ name: subcommand, type: 1, options: options(values) }] as never,
  });
}

async function answered(interaction: Awaited<ReturnType<typeof settingsIn>>): Promise<string> {
  await interaction.waitForResponse();
  return privateReplies(interaction).join('\n');
}

/** The /settings show embed as one text. */
async function shownSettings(w: World, channel: FakeChannel, userId: string): Promise<string> {
  const shown = await settingsIn(w, channel, userId, 'show');
  const response = await shown.waitForResponse();
  return JSON.stringify(response.data?.embeds);
}

/** A result finished (seed shown), with or without a picture. */
async function result(w: World, interaction: Awaited<ReturnType<typeof imagineIn>>): Promise<FakeMessage> {
  return waitForResult(w, interaction, 60_000);
}

const fileNames = (message: FakeMessage) => message.attachments.map((file) => file.filename);
const buttonIds = (message: FakeMessage) =>
  (message.components ?? []).flatMap((row) => ('components' in row ? row.components : []).map((button) => ('custom_id' in button ? String(button.custom_id) : '')));

describe('NSFW policy end to end: flagged images by channel, age restriction and server', { timeout: 180_000 }, () => {
  const scene = useWorld();

  it('a channel that is not age-restricted withholds flagged images by default and posts unflagged ones; spoiler covers them', async () => {
    const w = scene.world;
    await startPolicyBot(scene);

    const clean = await result(w, await imagineIn(w, w.channel, w.alice, 'clean'));
    expect(fileNames(clean)).toEqual(['imagine-7.png']);
    expect(embedOf(clean)?.image?.url).toMatch(/\/imagine-7\.png$/);
    expect(clean.content).not.toContain('withheld');

    const flagged = await result(w, await imagineIn(w, w.channel, w.alice, 'flags'));
    expect(fileNames(flagged)).toEqual([]);
    expect(embedOf(flagged)?.image).toBeUndefined();
    expect(flagged.content).toContain('This image was withheld: the safety checker flagged it');
    // The server has not allowed DMs of withheld images: no 📩, and nothing kept for /imagine-history's 📥.
    expect(buttonIds(flagged).some((id) => id.startsWith('imagine:withheld:'))).toBe(false);
    const history = await w.fake.sendCommand({ userId: w.alice, guildId: w.guild.id, channelId: w.channel.id, name: 'imagine-history' });
    expect(JSON.stringify((await history.waitForResponse()).data)).not.toContain('imagine:fetch:');

    expect(await shownSettings(w, w.channel, w.moderator)).toContain('block: withheld (default in a channel not age-restricted)');
    expect(await answered(await settingsIn(w, w.channel, w.moderator, 'set', { nsfw: 'allow' }))).toContain('allow is only for age-restricted channels');
    expect(await answered(await settingsIn(w, w.channel, w.moderator, 'set', { nsfw: 'spoiler' }))).not.toContain('only for');

    const spoilered = await result(w, await imagineIn(w, w.channel, w.alice, 'flags', { count: 2 }));
    expect(fileNames(spoilered)).toEqual(['SPOILER_imagine-7-grid.webp', 'SPOILER_imagine-7-1.png', 'SPOILER_imagine-7-2.png']);
    // Discord never covers an embed's image, so a spoiler is not shown there.
    expect(embedOf(spoilered)?.image).toBeUndefined();
    expect(spoilered.content).toContain('Images 1, 2 are behind a spoiler');
  });

  it('an age-restricted channel spoilers by default, may allow, and runs models without a checker; elsewhere those need a moderator', async () => {
    const w = scene.world;
    await startPolicyBot(scene);
    const adults = w.fake.addChannel(w.guild.id, { name: 'after-dark', nsfw: true });

    const spoilered = await result(w, await imagineIn(w, adults, w.alice, 'flags'));
    expect(fileNames(spoilered)).toEqual(['SPOILER_imagine-7.png']);
    expect(await answered(await settingsIn(w, adults, w.moderator, 'set', { nsfw: 'allow' }))).not.toContain('only for');
    const allowed = await result(w, await imagineIn(w, adults, w.alice, 'flags'));
    expect(fileNames(allowed)).toEqual(['imagine-7.png']);
    expect(embedOf(allowed)?.image?.url).toMatch(/\/imagine-7\.png$/);

    // No checker: fine in the age-restricted channel, refused in the ordinary one until a moderator allows it.
    expect(fileNames(await result(w, await imagineIn(w, adults, w.alice, 'unchecked')))).toEqual(['imagine-7.png']);
    const refused = await imagineIn(w, w.channel, w.alice, 'unchecked');
    await refused.waitForResponse();
    expect(privateReplies(refused).join()).toContain('unchecked has no safety checker, and this channel is not age-restricted');
    expect(await shownSettings(w, w.channel, w.moderator)).toContain('not allowed here: unchecked');
    await answered(await settingsIn(w, w.channel, w.moderator, 'set', { unchecked_models: true }));
    expect(await shownSettings(w, w.channel, w.moderator)).toContain('allowed here by a moderator: unchecked');
    expect(fileNames(await result(w, await imagineIn(w, w.channel, w.alice, 'unchecked')))).toEqual(['imagine-7.png']);
  });

  it('where the server allows it, the owner (and only the owner) gets a withheld image by DM', async () => {
    const w = scene.world;
    await startPolicyBot(scene);
    const admin = w.fake.addUser({ username: 'admin' }).id;
    w.fake.addMember(w.guild.id, admin, { permissions: PermissionFlagsBits.ManageGuild | PermissionFlagsBits.ManageChannels });

    expect(await answered(await settingsIn(w, w.channel, w.moderator, 'server', { withheld_dm: true }))).toContain('Manage Server');
    expect(await answered(await settingsIn(w, w.channel, admin, 'server', { withheld_dm: true }))).toContain('Saved.');

    const flagged = await result(w, await imagineIn(w, w.channel, w.alice, 'flags'));
    expect(fileNames(flagged)).toEqual([]);
    expect(flagged.content).toContain('Press 📩 to get it by DM');
    const dmButton = buttonIds(flagged).find((id) => id.startsWith('imagine:withheld:'))!;
    expect(dmButton).toBeDefined();

    const bobPress = await w.fake.pressButton({ userId: w.bob, guildId: w.guild.id, channelId: w.channel.id, messageId: flagged.id, customId: dmButton });
    await bobPress.waitForResponse();
    expect(privateReplies(bobPress).join()).toContain('Only the person who made this image');
    expect(w.fake.dmChannel(w.bob)).toBeUndefined();

    const alicePress = await w.fake.pressButton({ userId: w.alice, guildId: w.guild.id, channelId: w.channel.id, messageId: flagged.id, customId: dmButton });
    await alicePress.waitForResponse();
    const dm = await w.fake.waitFor(() => w.fake.dmChannel(w.alice), { timeoutMs: 20_000, message: 'no DM was opened' });
    const sent = await w.fake.waitFor(() => w.fake.messages(dm.id)[0], { timeoutMs: 20_000, message: 'nothing was sent by DM' });
    expect(sent.attachments.map((file) => file.filename)).toEqual(['SPOILER_imagine-7.png']);
    expect(sent.attachments[0]!.data.subarray(1, 4).toString()).toBe('PNG');

    // Turned off again: pictures withheld before are no longer sent.
    await answered(await settingsIn(w, w.channel, admin, 'server', { withheld_dm: false }));
    const again = await w.fake.pressButton({ userId: w.alice, guildId: w.guild.id, channelId: w.channel.id, messageId: flagged.id, customId: dmButton });
    await again.waitForResponse();
    expect(privateReplies(again).join()).toContain('does not allow withheld images to be sent by DM');
  });
});
