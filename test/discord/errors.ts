// Error bodies follow Discord's JSON error format so @discordjs/rest builds a DiscordAPIError
// with the same code/message/status a real bot would see.

export interface FieldError {
  code: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: number;
  readonly errors: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: number,
    message: string,
    errors?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
    this.headers = headers;
  }

  toBody(): Record<string, unknown> {
    return this.errors ? { message: this.message, code: this.code, errors: this.errors } : { message: this.message, code: this.code };
  }
}

/** Messages Discord pairs with the JSON error codes the fake can produce. */
export const ERROR_MESSAGES: Record<number, string> = {
  0: 'General error',
  10003: 'Unknown Channel',
  10004: 'Unknown Guild',
  10007: 'Unknown Member',
  10008: 'Unknown Message',
  10013: 'Unknown User',
  10014: 'Unknown Emoji',
  10015: 'Unknown Webhook',
  10062: 'Unknown interaction',
  10063: 'Unknown application command',
  40005: 'Request entity too large',
  40060: 'Interaction has already been acknowledged.',
  50001: 'Missing Access',
  50005: 'Cannot edit a message authored by another user',
  50006: 'Cannot send an empty message',
  50007: 'Cannot send messages to this user',
  50013: 'Missing Permissions',
  50027: 'Invalid Webhook Token',
  50035: 'Invalid Form Body',
  90001: 'Reaction blocked',
};

export function apiError(status: number, code: number, message?: string): ApiError {
  return new ApiError(status, code, message ?? ERROR_MESSAGES[code] ?? `${status}`);
}

/**
 * Collects field errors into Discord's nested `errors` shape
 * (`{ embeds: { 0: { description: { _errors: [...] } } } }`) from dotted paths.
 */
export class FormErrors {
  private readonly root: Record<string, unknown> = {};
  private count = 0;

  add(path: string, code: string, message: string): void {
    let node = this.root;
    for (const key of path.split('.')) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    const list = (node._errors ??= []) as FieldError[];
    list.push({ code, message });
    this.count++;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  toError(): ApiError {
    return new ApiError(400, 50035, 'Invalid Form Body', this.root);
  }
}
