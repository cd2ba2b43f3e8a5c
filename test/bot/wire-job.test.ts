import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { fromWireJob, toWireJob, wireJobSchema } from '../../src/bot/jobs/bullmq/wire-job.ts';
import type { Job } from '../../src/bot/jobs/job.ts';
import type { DiscordMessenger } from '../../src/bot/delivery/discord-messenger.ts';
import type { ReplyTarget, ReplyTargetRecord } from '../../src/bot/delivery/reply-target.ts';

describe('the BullMQ wire format', () => {
  it('carries an img2img job by its starting image id and strength, not its bytes', () => {
    const address: ReplyTargetRecord = { kind: 'interaction', interactionToken: 'token', channelId: '2', ownerId: '3', createdAt: 5 };
    const reply = { record: () => address } as unknown as ReplyTarget;
    const logger = pino({ level: 'silent' });
    const job: Job = {
      id: 'ab12',
      userId: '3',
      guildId: '1',
      channelId: '2',
      request: { prompt: 'a barn', steps: 4, guidance: 7.5, width: 64, height: 64, count: 1, strength: 0.5, initImageId: 'f00d' },
      reply,
      createdAt: 5,
      log: logger,
    };
    // Through JSON, as Redis stores it, and the schema, as the worker reads it.
    const wire = wireJobSchema.parse(JSON.parse(JSON.stringify(toWireJob(job, 'tiny', 9))));
    expect(wire.request).toEqual({ prompt: 'a barn', steps: 4, guidance: 7.5, width: 64, height: 64, count: 1, strength: 0.5, initImageId: 'f00d', seed: 9 });
    const back = fromWireJob(wire, {} as DiscordMessenger, logger);
    expect(back.request).toMatchObject({ initImageId: 'f00d', strength: 0.5, seed: 9 });
  });
});
