import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { APIApplicationCommandInteractionDataOption } from 'discord.js';
import { createEngine } from '../../../src/engine/index.ts';
import { buildModel } from '../../../src/models/builder/index.ts';
import { ensureTinyModel } from '../../../src/models/default-model.ts';
import type { FakeMessage } from '../../discord/fake-discord.ts';
import { embedField, imagine, isResult, options, privateReplies, settings, useWorld, waitForResult, type World } from './harness.ts';

/** Two real tiny models: tiny-sd (SD, native 512) and tiny-xl (SDXL layout, native 256), built once per file. */
let modelDirs: Promise<string[]> | undefined;
function servedModels(): Promise<string[]> {
  modelDirs ??= mkdtemp(path.join(tmpdir(), 'imagine-models-e2e-')).then(async (root) => {
    const sd = await ensureTinyModel({ modelsDir: root });
    const xl = path.join(root, 'tiny-xl');
    await buildModel(xl, { preset: 'tiny-sdxl', unet: { sampleSize: 32 } });
    return [sd, xl];
  });
  return modelDirs;
}

async function twoModelEngine() {
  return createEngine({ modelDirs: await servedModels(), defaultModel: 'tiny-sd', provider: 'cpu' });
}

function prefs(w: World, userId: string, subcommand: 'show' | 'set' | 'reset', values: Record<string, string | number | undefined> = {}) {
  return w.fake.sendCommand({
    userId,
    channelId: w.channel.id,
    name: 'prefs',
    options: [{ name: subcommand, type: 1, options: options(values) } as APIApplicationCommandInteractionDataOption],
  });
}

/** The suggestions Discord would show while `userId` types `typed` into /imagine's model option. */
async function modelSuggestions(w: World, userId: string, typed: string): Promise<Array<{ name: string; value: string }>> {
  const interaction = await w.fake.sendAutocomplete({
    userId,
    channelId: w.channel.id,
    name: 'imagine',
    options: [
      { name: 'prompt', type: 3, value: 'a tree' },
      { name: 'model', type: 3, value: typed, focused: true },
    ] as APIApplicationCommandInteractionDataOption[],
  });
  const response = await interaction.waitForResponse();
  expect(response.type).toBe(8);
  return response.data?.choices as Array<{ name: string; value: string }>;
}

async function imageSize(message: FakeMessage) {
  const png = message.attachments.find((file) => file.filename.endsWith('.png'));
  const metadata = await sharp(png!.data).metadata();
  return `${metadata.width}×${metadata.height}`;
}

describe('model choice end to end', { timeout: 120_000 }, () => {
  const scene = useWorld();

  it('autocomplete lists the served models with family and native size, only those the channel allows', async () => {
    const w = scene.world;
    await scene.startBot({ engine: await twoModelEngine() });
    expect(await modelSuggestions(w, w.alice, '')).toEqual([
      { name: 'tiny-sd · SD · 512×512', value: 'tiny-sd' },
      { name: 'tiny-xl · SDXL · 256×256', value: 'tiny-xl' },
    ]);
    expect((await modelSuggestions(w, w.alice, 'XL')).map((choice) => choice.value)).toEqual(['tiny-xl']);

    const limit = await settings(w, w.moderator, 'set', { allowed_models: 'tiny-xl' });
    expect((await limit.waitForResponse()).data?.content).toBe('Saved.');
    expect((await modelSuggestions(w, w.alice, '')).map((choice) => choice.value)).toEqual(['tiny-xl']);
    const refused = await imagine(w, w.alice, { prompt: 'a tree', model: 'tiny-sd' });
    await refused.waitForResponse();
    expect(privateReplies(refused)).toEqual(['tiny-sd is not allowed in this channel. Models here: tiny-xl.']);
    const unknown = await imagine(w, w.alice, { prompt: 'a tree', model: 'dall-e' });
    await unknown.waitForResponse();
    expect(privateReplies(unknown)).toEqual(['There is no model “dall-e”. Models here: tiny-xl.']);

    // With only tiny-xl allowed, a job that names no model runs on it, not on the bot's default.
    const job = await imagine(w, w.bob, { prompt: 'a tree', steps: 1 });
    expect(embedField(await waitForResult(w, job), 'Model')).toBe('tiny-xl');

    const contradiction = await settings(w, w.moderator, 'set', { model: 'tiny-sd' });
    await contradiction.waitForResponse();
    expect(privateReplies(contradiction)).toEqual(['The default model (tiny-sd) would not be among the allowed models (tiny-xl).']);
  });

  it('runs the chosen model at its own sizes; the channel default applies; a reroll keeps the model', async () => {
    const w = scene.world;
    const running = await scene.startBot({ engine: await twoModelEngine() });
    const chosen = await imagine(w, w.alice, { prompt: 'a tower', model: 'tiny-xl', size: 'portrait', steps: 1 });
    const result = await waitForResult(w, chosen);
    expect(embedField(result, 'Model')).toBe('tiny-xl');
    // SDXL keeps its native area at 7:9: 256² → 224×288 (1024² → 896×1152).
    expect(embedField(result, 'Size')).toBe('224×288');
    expect(await imageSize(result)).toBe('224×288');
    expect(running.engine.requests[0]).toMatchObject({ model: 'tiny-xl', width: 224, height: 288 });

    await w.fake.addReaction({ userId: w.bob, channelId: w.channel.id, messageId: result.id, emoji: '🔁' });
    const reroll = await w.fake.waitFor(
      () => w.fake.messages(w.channel.id).find((message) => message.message_reference?.message_id === result.id && isResult(message)),
      { timeoutMs: 30_000 },
    );
    expect(embedField(reroll, 'Model')).toBe('tiny-xl');
    expect(embedField(reroll, 'Size')).toBe('224×288');

    await (await settings(w, w.moderator, 'set', { model: 'tiny-xl' })).waitForResponse();
    const byDefault = await imagine(w, w.bob, { prompt: 'a tower', size: 'landscape', steps: 1 });
    const defaulted = await waitForResult(w, byDefault);
    expect(embedField(defaulted, 'Model')).toBe('tiny-xl');
    expect(await imageSize(defaulted)).toBe('288×224');
    // An explicit choice wins over the channel's default.
    const explicit = await imagine(w, w.bob, { prompt: 'a tower', model: 'tiny-sd', steps: 1 });
    const sd = await waitForResult(w, explicit);
    expect(embedField(sd, 'Model')).toBe('tiny-sd');
    expect(await imageSize(sd)).toBe('512×512');
  });

  it('/prefs: a member’s defaults apply to their jobs only, within the channel’s limits, and survive a restart', async () => {
    const w = scene.world;
    const first = await scene.startBot({ engine: await twoModelEngine() });
    const set = await prefs(w, w.alice, 'set', { model: 'tiny-xl', steps: 40, size: 'landscape', scheduler: 'euler-a' });
    const saved = await set.waitForResponse();
    expect(saved.ephemeral).toBe(true);
    expect(saved.data?.content).toBe('Saved.');
    const bad = await prefs(w, w.alice, 'set', { model: 'nope' });
    await bad.waitForResponse();
    expect(privateReplies(bad)).toEqual(['There is no model “nope”. Models: tiny-sd, tiny-xl.']);

    await (await settings(w, w.moderator, 'set', { max_steps: 2 })).waitForResponse();
    const mine = await waitForResult(w, await imagine(w, w.alice, { prompt: 'a boat' }));
    expect(embedField(mine, 'Model')).toBe('tiny-xl');
    expect(embedField(mine, 'Steps')).toBe('2');
    expect(embedField(mine, 'Size')).toBe('288×224');
    expect(embedField(mine, 'Scheduler')).toBe('euler-a');
    const theirs = await waitForResult(w, await imagine(w, w.bob, { prompt: 'a boat', steps: 1 }));
    expect(embedField(theirs, 'Model')).toBe('tiny-sd');
    expect(embedField(theirs, 'Size')).toBe('512×512');

    // A preferred model the channel does not allow gives way to what the channel allows.
    await (await settings(w, w.moderator, 'set', { allowed_models: 'tiny-sd' })).waitForResponse();
    const limited = await waitForResult(w, await imagine(w, w.alice, { prompt: 'a boat', size: 'square' }));
    expect(embedField(limited, 'Model')).toBe('tiny-sd');

    await first.stop();
    await scene.startBot({ engine: await twoModelEngine() });
    const show = await (await prefs(w, w.alice, 'show')).waitForResponse();
    const fields = (show.data?.embeds as Array<{ fields: Array<{ name: string; value: string }> }>)[0]?.fields ?? [];
    expect(Object.fromEntries(fields.map((field) => [field.name, field.value]))).toEqual({ size: 'landscape', scheduler: 'euler-a', steps: '40', model: 'tiny-xl' });
    const reset = await (await prefs(w, w.alice, 'reset', { pref: 'model' })).waitForResponse();
    expect(reset.data?.content).toBe('Forgot your default model.');
  });
});
