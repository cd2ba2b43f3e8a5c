import type { ResolvedRequest } from '../../engine/types.ts';
import type { KeyValueStore } from '../settings/key-value-store.ts';

/** What a posted result needs to be rerolled or deleted later, including after a restart. */
export interface ResultRecord {
  jobId: string;
  ownerId: string;
  guildId: string | null;
  channelId: string;
  messageId: string;
  request: ResolvedRequest;
  /** img2img results: the starting image, for rerolls while it is kept. */
  initImageId?: string;
  model: string;
  /** The result this one rerolled, if any. */
  parentMessageId?: string;
  createdAt: number;
}

/** How long a result can be rerolled. Bounded so that the store does not grow forever. */
export const RESULT_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;

/** Results keyed by the id of the message that shows them. */
export class ResultStore {
  constructor(private readonly keyv: KeyValueStore<ResultRecord>) {}

  get(messageId: string): Promise<ResultRecord | undefined> {
    return this.keyv.get(messageId);
  }

  async save(record: ResultRecord): Promise<void> {
    await this.keyv.set(record.messageId, record, RESULT_RETENTION_MS);
  }

  async delete(messageId: string): Promise<void> {
    await this.keyv.delete(messageId);
  }
}
