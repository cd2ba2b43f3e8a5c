/**
 * Every failure a pull can end in, as one line a person can act on. The CLI prints `message`
 * verbatim, so each message names the thing to fix (repo, revision, endpoint, path, file).
 */
export type PullErrorKind =
  | 'invalid-argument'
  | 'repo-not-found'
  | 'unauthorized'
  | 'revision-not-found'
  | 'file-not-found'
  | 'not-onnx'
  | 'network'
  | 'http'
  | 'filesystem'
  | 'checksum'
  | 'aborted';

export class PullError extends Error {
  readonly kind: PullErrorKind;
  /** The HTTP status behind it, when a server answered (429 and 5xx are worth a retry). */
  readonly status: number | undefined;

  constructor(kind: PullErrorKind, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.name = 'PullError';
    this.kind = kind;
    this.status = options?.status;
  }
}

/** The first `code` found along an error's cause chain (undici wraps socket errors in `fetch failed`). */
export function errorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // Happy-eyeballs connects fail with an AggregateError whose members carry the codes.
    if (current instanceof AggregateError) {
      for (const member of current.errors) {
        const inner = errorCode(member);
        if (inner) return inner;
      }
    }
    current = current.cause;
  }
  return undefined;
}

const FS_CODES = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EMFILE', 'EBUSY']);

export function isFilesystemError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && (FS_CODES.has(code) || ('syscall' in error && 'path' in error));
}

/** Turns a node:fs failure into a PullError naming the path; anything else is returned unchanged. */
export function fromFilesystemError(error: unknown, path: string): unknown {
  if (error instanceof PullError || !isFilesystemError(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new PullError('filesystem', `Disk full while writing ${path}: free some space and run the same command again to resume.`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new PullError('filesystem', `Permission denied writing ${path}: choose another --out/--models-dir or fix the folder's permissions.`, { cause: error });
    case 'EROFS':
      return new PullError('filesystem', `Read-only file system at ${path}: choose another --out/--models-dir.`, { cause: error });
    default:
      return new PullError('filesystem', `Cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** A failure of the transport (not an HTTP status): worth a retry while downloading. */
export function isNetworkError(error: unknown): boolean {
  if (error instanceof PullError) return error.kind === 'network';
  const code = errorCode(error);
  if (code !== undefined) return NETWORK_CODES.has(code);
  // undici reports a body cut short as a bare TypeError('terminated').
  return error instanceof TypeError && (error.message === 'fetch failed' || error.message === 'terminated');
}

/** undici's own message is always 'fetch failed'; the reason sits at the end of the cause chain. */
function innermostMessage(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

export function networkError(error: unknown, host: string): PullError {
  if (error instanceof PullError) return error;
  const code = errorCode(error);
  const reason =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? 'host not found'
      : code === 'ECONNREFUSED'
        ? 'connection refused'
        : code === 'UND_ERR_SOCKET' || code === 'ECONNRESET'
          ? 'connection dropped'
          : code ?? innermostMessage(error);
  return new PullError('network', `Cannot reach ${host} (${reason}): check your network connection or HF_ENDPOINT.`, { cause: error });
}

export function abortedError(dir: string): PullError {
  return new PullError(
    'aborted',
    `Interrupted: partial downloads were kept as *.incomplete files in ${dir}; run the same command again to resume.`,
  );
}
