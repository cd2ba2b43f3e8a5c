import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { registerCommands } from '../../../src/bot/register-commands.ts';
import { dimensionsFor } from '../../../src/bot/jobs/sizes.ts';
import { embedField, imagine, useWorld, waitForResult } from './harness.ts';

describe('/imagine end to end', () => {
  const scene = useWorld();

  it('registers the five commands to a guild', async () => {
    const w = scene.world;
    const names = await registerCommands({ token: w.fake.token, applicationId: w.fake.applicationId, apiUrl: w.fake.restUrl, guildId: w.guild.id });
    expect(names.sort()).toEqual(['imagine', 'imagine-history', 'prefs', 'queue', 'settings']);
    const imagineCommand = w.fake.commands(w.guild.id).find((command) => command.name === 'imagine');
    expect(imagineCommand?.options?.map((option) => option.name)).toEqual(['prompt', 'negative', 'seed', 'steps', 'guidance', 'size', 'scheduler', 'image', 'strength', 'count', 'model']);
  });

  it('defers at once, previews, then shows the final image with its parameters', async () => {
    const w = scene.world;
    const running = await scene.startBot();
    const interaction = await imagine(w, w.alice, { prompt: 'a red fox', seed: 1234, steps: 12, size: 'portrait' });
    const ack = await interaction.waitForResponse();
    expect(ack.type).toBe(5);
    expect(ack.at).toBeLessThan(3000);

    // 12 steps at 512×768 take about 20 s on a busy two-core machine: wait longer than the default.
    const result = await waitForResult(w, interaction, 60_000);
    const previews = interaction.edits.filter((edit) => edit.ok && edit.attachments.some((file) => file.filename.startsWith('preview')));
    expect(previews.length).toBeGreaterThanOrEqual(1);

    const image = result.attachments.find((file) => file.filename.endsWith('.png'));
    expect(image).toBeDefined();
    const metadata = await sharp(image!.data).metadata();
    const { nativeWidth, nativeHeight } = running.engine.info.model;
    const expected = dimensionsFor('portrait', { width: nativeWidth, height: nativeHeight });
    // Images under 256 px are delivered enlarged by a whole factor so they are visible in Discord.
    const factor = Math.max(1, Math.ceil(256 / Math.max(expected.width, expected.height)));
    expect({ width: metadata.width, height: metadata.height }).toEqual({ width: expected.width * factor, height: expected.height * factor });
    expect(embedField(result, 'Seed')).toBe('1234');
    expect(embedField(result, 'Steps')).toBe('12');
    expect(embedField(result, 'Size')).toBe(`${expected.width}×${expected.height}`);
    expect(embedField(result, 'Model')).toBe(running.engine.info.model.name);
    expect(result.components?.length).toBe(1);
    // The bot invites rerolls with its own 🔁 reaction.
    await w.fake.waitFor(() => w.fake.message(w.channel.id, result.id)?.reactions?.some((reaction) => reaction.emoji.name === '🔁' && reaction.me));
  });

  it('keeps working across a gateway reconnect (resume) in the middle of a job', async () => {
    const w = scene.world;
    await scene.startBot();
    const during = await imagine(w, w.alice, { prompt: 'through the storm', steps: 15 });
    await during.waitForResponse();
    w.fake.disconnectGateway({ resumable: true });
    await waitForResult(w, during, 60_000);
    const after = await imagine(w, w.bob, { prompt: 'after the storm', steps: 2 });
    expect((await after.waitForResponse()).type).toBe(5);
    await waitForResult(w, after, 60_000);
  });
});
