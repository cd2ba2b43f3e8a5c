/** Button custom ids. Results carry no job id: their parameters are looked up by message id. */
export const CustomIds = {
  cancel: (jobId: string) => `imagine:cancel:${jobId}`,
  reroll: 'imagine:reroll',
  delete: 'imagine:delete',
  /** 📥 in /imagine-history: sends the owner an image that could not be delivered. */
  fetch: (jobId: string) => `imagine:fetch:${jobId}`,
} as const;

export type ButtonAction = { action: 'cancel'; jobId: string } | { action: 'fetch'; jobId: string } | { action: 'reroll' } | { action: 'delete' };

export function parseCustomId(customId: string): ButtonAction | undefined {
  if (customId === CustomIds.reroll) return { action: 'reroll' };
  if (customId === CustomIds.delete) return { action: 'delete' };
  const cancel = /^imagine:cancel:([0-9a-f]+)$/.exec(customId);
  if (cancel?.[1]) return { action: 'cancel', jobId: cancel[1] };
  const fetch = /^imagine:fetch:([0-9a-f]+)$/.exec(customId);
  if (fetch?.[1]) return { action: 'fetch', jobId: fetch[1] };
  return undefined;
}

export const REROLL_EMOJI = '🔁';
