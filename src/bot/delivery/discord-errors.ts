import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';

/** Discord JSON error codes the bot reacts to. */
export const DiscordErrorCode = {
  UnknownMessage: 10008,
  UnknownWebhook: 10015,
  UnknownInteraction: 10062,
  MissingAccess: 50001,
  MissingPermissions: 50013,
  InvalidWebhookToken: 50027,
  RequestEntityTooLarge: 40005,
  CannotSendMessagesToThisUser: 50007,
} as const;

function apiCode(error: unknown): number | string | undefined {
  return error instanceof DiscordAPIError ? error.code : undefined;
}

/** The interaction token can no longer edit the reply: expired (15 min) or revoked. */
export function isInteractionTokenGone(error: unknown): boolean {
  const code = apiCode(error);
  return (
    code === DiscordErrorCode.InvalidWebhookToken ||
    code === DiscordErrorCode.UnknownWebhook ||
    code === DiscordErrorCode.UnknownInteraction ||
    (error instanceof DiscordAPIError && error.status === 401)
  );
}

export function isMissingPermissions(error: unknown): boolean {
  const code = apiCode(error);
  return code === DiscordErrorCode.MissingPermissions || code === DiscordErrorCode.MissingAccess;
}

export function isUnknownMessage(error: unknown): boolean {
  return apiCode(error) === DiscordErrorCode.UnknownMessage;
}

/** The upload was larger than Discord accepts here (the limit depends on the server's boosts). */
export function isPayloadTooLarge(error: unknown): boolean {
  if (error instanceof DiscordAPIError) return error.status === 413 || error.code === DiscordErrorCode.RequestEntityTooLarge;
  return error instanceof HTTPError && error.status === 413;
}

/** Worth trying again later: Discord's side failed, or the connection did. Refusals (4xx) are not. */
export function isTransient(error: unknown): boolean {
  if (error instanceof DiscordAPIError) return false;
  if (error instanceof HTTPError) return error.status >= 500 || error.status === 408;
  if (error instanceof RateLimitError) return true;
  const name = (error as { name?: unknown } | null)?.name;
  const code = (error as { code?: unknown } | null)?.code;
  return name === 'AbortError' || name === 'TimeoutError' || (typeof code === 'string' && /^(ECONN|ETIMEDOUT|EPIPE|UND_ERR|EAI_AGAIN)/.test(code));
}

/** Discord failed on its side even after the REST client's retries. */
export function isServerError(error: unknown): boolean {
  return error instanceof HTTPError && error.status >= 500;
}

/** For a 429 refused without waiting: how long Discord asked us to wait. */
export function retryAfterMs(error: unknown): number | undefined {
  if (error instanceof RateLimitError) return Math.max(error.retryAfter, error.timeToReset, 0);
  return undefined;
}

/** A short description for logs: status and code, never request bodies or URLs with tokens. */
export function describeDiscordError(error: unknown): Record<string, unknown> {
  if (error instanceof DiscordAPIError) return { status: error.status, code: error.code, message: error.message };
  if (error instanceof HTTPError) return { status: error.status, message: error.message };
  if (error instanceof RateLimitError) return { rateLimited: true, retryAfterMs: error.retryAfter, route: error.route };
  if (error instanceof Error) return { message: error.message, name: error.name };
  return { message: String(error) };
}
