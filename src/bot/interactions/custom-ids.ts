/** Button custom ids. Results carry no job id: their parameters are looked up by message id. */
export const CustomIds = {
  cancel: (jobId: string) => `imagine:cancel:${jobId}`,
  reroll: 'imagine:reroll',
  delete: 'imagine:delete',
  /** 📥 in /imagine-history: sends the owner an image that could not be delivered. */
  fetch: (jobId: string) => `imagine:fetch:${jobId}`,
  /** 🎨 / ⬆️ on the `image`-th picture of a result (1-based). */
  vary: (image: number) => `imagine:vary:${image}`,
  upscale: (image: number) => `imagine:upscale:${image}`,
  /** 📩 on a result with withheld pictures: sends them to their owner by DM, where the server allows it. */
  withheld: (jobId: string) => `imagine:withheld:${jobId}`,
  /** ✏️: opens the edit modal, whose submission names the result message. */
  edit: 'imagine:edit',
  editModal: (messageId: string) => `imagine:edit-modal:${messageId}`,
} as const;

export type ButtonAction =
  | { action: 'cancel'; jobId: string }
  | { action: 'fetch'; jobId: string }
  | { action: 'withheld'; jobId: string }
  | { action: 'reroll' }
  | { action: 'delete' }
  | { action: 'vary' | 'upscale'; image: number }
  | { action: 'edit' };

/** The result message an edit modal was opened from. */
export function parseEditModalId(customId: string): string | undefined {
  return /^imagine:edit-modal:(\d+)$/.exec(customId)?.[1];
}

export function parseCustomId(customId: string): ButtonAction | undefined {
  if (customId === CustomIds.reroll) return { action: 'reroll' };
  if (customId === CustomIds.delete) return { action: 'delete' };
  if (customId === CustomIds.edit) return { action: 'edit' };
  const fromImage = /^imagine:(vary|upscale):([1-4])$/.exec(customId);
  if (fromImage?.[1] && fromImage[2]) return { action: fromImage[1] as 'vary' | 'upscale', image: Number(fromImage[2]) };
  const cancel = /^imagine:cancel:([0-9a-f]+)$/.exec(customId);
  if (cancel?.[1]) return { action: 'cancel', jobId: cancel[1] };
  const fetch = /^imagine:(fetch|withheld):([0-9a-f]+)$/.exec(customId);
  if (fetch?.[1] && fetch[2]) return { action: fetch[1] as 'fetch' | 'withheld', jobId: fetch[2] };
  return undefined;
}

export const REROLL_EMOJI = '🔁';
