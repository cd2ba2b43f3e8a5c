import { randomBytes } from 'node:crypto';
import type { GenerateRequest } from '../../engine/types.ts';
import type { KeyValueStore } from '../settings/key-value-store.ts';
import type { BotRequest } from '../jobs/imagine-request.ts';

/** How long a starting image is kept: long enough to reroll or vary its results for a week. */
export const INIT_IMAGE_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Said when a job refers to a starting image that is no longer kept. */
export const INIT_IMAGE_GONE = 'I no longer have the starting image for this job.';

/**
 * Starting images for img2img jobs, by id. Jobs carry the id, not the bytes: jobs are journaled and sent
 * through Redis, and megabytes do not belong there. Lives in the shared store, so a worker in another
 * process reads what the gateway kept.
 */
export class InitImageStore {
  constructor(private readonly store: KeyValueStore<string>) {}

  async keep(image: Buffer): Promise<string> {
    const id = randomBytes(8).toString('hex');
    await this.store.set(id, image.toString('base64'), INIT_IMAGE_RETENTION_MS);
    return id;
  }

  async get(id: string): Promise<Buffer | undefined> {
    const base64 = await this.store.get(id);
    return base64 === undefined ? undefined : Buffer.from(base64, 'base64');
  }
}

export class InitImageMissingError extends Error {
  override readonly name = 'InitImageMissingError';
  constructor() {
    super(INIT_IMAGE_GONE);
  }
}

/** The engine's request for a job: the starting image's bytes in place of its id. */
export async function engineRequest(request: BotRequest, images: InitImageStore | undefined): Promise<GenerateRequest> {
  const { initImageId, ...rest } = request;
  if (initImageId === undefined) return rest;
  const initImage = await images?.get(initImageId);
  if (!initImage) throw new InitImageMissingError();
  return { ...rest, initImage };
}
