import { listFiles as hubListFiles, modelInfo, type ListFileEntry } from '@huggingface/hub';
import { PullError, networkError } from './errors.ts';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** One file of a repo as the tree API lists it; `sha256` is set for LFS files (their `lfs.oid`). */
export interface RepoFile {
  path: string;
  size: number;
  /** Git blob id of the file (of the LFS pointer, for LFS files). */
  oid: string;
  sha256?: string;
}

export interface HubClientOptions {
  endpoint?: string;
  token?: string;
  fetch?: typeof fetch;
}

export interface RequestContext {
  repo: string;
  revision: string;
  file?: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** Revision names may contain slashes (`refs/pr/1`), which must not read as path separators. */
export function encodeRevision(revision: string): string {
  return encodeURIComponent(revision);
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function toRepoFile(entry: ListFileEntry): RepoFile {
  const size = entry.lfs?.size ?? entry.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new PullError('http', `The hub listed ${entry.path} without a valid size; cannot verify it.`);
  }
  const file: RepoFile = { path: entry.path, size, oid: entry.oid ?? '' };
  if (entry.lfs?.oid) file.sha256 = entry.lfs.oid.replace(/^sha256:/, '').toLowerCase();
  return file;
}

/**
 * What one call through `HubClient.fetchFor` saw: @huggingface/hub reports HTTP failures as
 * generic errors (and a Blob stream's as a bare message), so the hub's own error code and the
 * response status are kept here for the caller.
 */
export interface FetchRecord {
  context: RequestContext;
  signal?: AbortSignal;
  /** The last response that came back, after redirects. */
  response?: Response;
  /** The PullError the last failed request turned into. */
  error?: PullError;
}

/**
 * The hub as models:pull needs it: @huggingface/hub for revisions, listings and downloads, through
 * a fetch of our own that keeps the token to the hub's origin across redirects and turns the hub's
 * error answers into one-line PullErrors. Knows nothing about which files a model needs.
 */
export class HubClient {
  readonly endpoint: string;
  readonly hasToken: boolean;
  private readonly token: string | undefined;
  private readonly origin: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: HubClientOptions = {}) {
    this.endpoint = (options.endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
    let origin: string;
    try {
      origin = new URL(this.endpoint).origin;
    } catch {
      throw new PullError('invalid-argument', `Invalid hub endpoint '${this.endpoint}': expected a URL such as ${DEFAULT_ENDPOINT}.`);
    }
    this.origin = origin;
    this.token = options.token || undefined;
    this.hasToken = this.token !== undefined;
    this.fetchImpl = options.fetch ?? fetch;
  }

  resolveUrl(repo: string, revision: string, path: string): string {
    return `${this.endpoint}/${encodePath(repo)}/resolve/${encodeRevision(revision)}/${encodePath(path)}`;
  }

  private apiUrl(repo: string, suffix: string): string {
    return `${this.endpoint}/api/models/${encodePath(repo)}${suffix}`;
  }

  /**
   * GET that follows redirects by hand: the token goes only to the hub's own origin (a CDN's
   * presigned URL rejects a second credential), and Range survives every hop.
   * Transport failures become PullError('network'); HTTP errors come back as responses.
   */
  async request(url: string, init: { headers?: Record<string, string>; signal?: AbortSignal | undefined } = {}): Promise<Response> {
    let current = new URL(url);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = { ...init.headers };
      if (this.token && current.origin === this.origin) headers.authorization = `Bearer ${this.token}`;
      let response: Response;
      try {
        response = await this.fetchImpl(current, { headers, redirect: 'manual', signal: init.signal });
      } catch (error) {
        if (init.signal?.aborted) throw error;
        throw networkError(error, current.origin === this.origin ? this.endpoint : current.origin);
      }
      const location = response.headers.get('location');
      if (!REDIRECT_STATUSES.has(response.status) || !location) return response;
      await response.body?.cancel();
      current = new URL(location, current);
    }
    throw new PullError('http', `Too many redirects fetching ${url}.`);
  }

  private async getJson(url: string, context: RequestContext, signal?: AbortSignal): Promise<{ body: unknown; response: Response }> {
    const response = await this.request(url, { headers: { accept: 'application/json' }, signal });
    if (!response.ok) throw await this.errorFor(response, context);
    try {
      return { body: await response.json(), response };
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new PullError('http', `${this.endpoint} sent an unreadable answer for ${url}.`, { cause: error });
    }
  }

  /**
   * A fetch for @huggingface/hub's calls: the token goes only to the hub's own origin (the library
   * would send it to the CDN too, which rejects a second credential), every answer is recorded in
   * `record`, and an HTTP error becomes the PullError that says what to do about it.
   */
  fetchFor(record: FetchRecord): typeof fetch {
    return async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      const headers = new Headers(init?.headers);
      headers.delete('authorization');
      const response = await this.request(url, { headers: Object.fromEntries(headers), signal: record.signal ?? init?.signal ?? undefined }).catch((error: unknown) => {
        if (error instanceof PullError) record.error = error;
        throw error;
      });
      record.response = response;
      if (!response.ok) {
        record.error = await this.errorFor(response, record.context);
        throw record.error;
      }
      return response;
    };
  }

  /** The commit a revision points at, so every file of one pull comes from the same commit. */
  async resolveCommit(repo: string, revision: string, signal?: AbortSignal): Promise<string | undefined> {
    const record: FetchRecord = { context: { repo, revision }, signal };
    const info = await modelInfo({ name: repo, revision, hubUrl: this.endpoint, additionalFields: ['sha'], fetch: this.fetchFor(record) }).catch((error: unknown) => {
      throw record.error ?? error;
    });
    return typeof info.sha === 'string' && /^[0-9a-f]{40}$/i.test(info.sha) ? info.sha : undefined;
  }

  async listFiles(repo: string, revision: string, signal?: AbortSignal): Promise<RepoFile[]> {
    const record: FetchRecord = { context: { repo, revision }, signal };
    const files: RepoFile[] = [];
    try {
      // The library puts the revision in the path as given: a branch such as refs/pr/1 must arrive as one segment.
      for await (const entry of hubListFiles({ repo, revision: encodeRevision(revision), recursive: true, hubUrl: this.endpoint, fetch: this.fetchFor(record) })) {
        if (entry.type === 'file') files.push(toRepoFile(entry));
      }
    } catch (error) {
      if (signal?.aborted || error instanceof PullError) throw error;
      throw record.error ?? new PullError('http', `${this.endpoint} sent an unexpected file listing for ${repo}.`, { cause: error });
    }
    return files;
  }

  /** Branch and tag names, for hints only: any failure yields an empty list. */
  async refNames(repo: string, signal?: AbortSignal): Promise<string[]> {
    try {
      const { body } = await this.getJson(this.apiUrl(repo, '/refs'), { repo, revision: '' }, signal);
      const refs = body as { branches?: unknown; tags?: unknown } | null;
      return [refs?.branches, refs?.tags]
        .flatMap((list) => (Array.isArray(list) ? list : []))
        .map((ref) => (ref as { name?: unknown } | null)?.name)
        .filter((name): name is string => typeof name === 'string');
    } catch (error) {
      if (signal?.aborted) throw error;
      return [];
    }
  }

  /** Maps an error response to one actionable line, using the hub's X-Error-Code when present. */
  async errorFor(response: Response, context: RequestContext): Promise<PullError> {
    const error = await this.describeError(response, context);
    return new PullError(error.kind, error.message, { status: response.status });
  }

  private async describeError(response: Response, context: RequestContext): Promise<PullError> {
    const code = response.headers.get('x-error-code');
    const { repo, revision, file } = context;
    const status = response.status;
    const repoPage = `${this.endpoint}/${repo}`;
    let detail = response.headers.get('x-error-message') ?? '';
    if (!detail) {
      try {
        const text = (await response.text()).trim();
        const parsed = text.startsWith('{') ? (JSON.parse(text) as { error?: unknown }).error : text;
        detail = typeof parsed === 'string' ? parsed.split('\n')[0]!.slice(0, 200) : '';
      } catch {
        detail = '';
      }
    } else {
      await response.body?.cancel();
    }

    const what = file ? `${file} of ${repo}` : repo;
    const answeredBy = response.url ? new URL(response.url).origin : this.origin;
    if (answeredBy !== this.origin) {
      // A CDN's errors (expired signature, throttling) say nothing about the repo or the token.
      return new PullError('http', `${answeredBy} answered ${status}${detail ? ` (${detail})` : ''} for ${what}.`);
    }
    if (code === 'RevisionNotFound') {
      return new PullError('revision-not-found', `Revision '${revision}' not found in ${repo}: pass an existing branch, tag or commit with --revision.`);
    }
    if (code === 'EntryNotFound' || (status === 404 && file !== undefined && code === null)) {
      return new PullError('file-not-found', `${file ?? 'A file'} not found in ${repo} at revision ${revision}.`);
    }
    if (code === 'GatedRepo' || (status === 403 && /gated|restricted/i.test(detail))) {
      return new PullError(
        'unauthorized',
        this.hasToken
          ? `${repo} is gated and your token has not been granted access: accept its terms at ${repoPage}, then retry.`
          : `${repo} is gated: accept its terms at ${repoPage}, then set HF_TOKEN (or pass --token) to a read token.`,
      );
    }
    if (code === 'RepoNotFound' || status === 404) {
      return new PullError(
        'repo-not-found',
        this.hasToken
          ? `Repository ${repo} not found on ${this.endpoint} (or your token cannot read it): check the repo id.`
          : `Repository ${repo} not found on ${this.endpoint}: check the repo id; if it is private or gated, set HF_TOKEN (or pass --token).`,
      );
    }
    if (status === 401) {
      return new PullError(
        'unauthorized',
        this.hasToken
          ? `${this.endpoint} rejected your token for ${repo} (401): check HF_TOKEN / --token.`
          : `${repo} requires authentication (401: gated or private): set HF_TOKEN (or pass --token) to a read token.`,
      );
    }
    if (status === 403) {
      return new PullError('unauthorized', `Access to ${repo} denied (403)${detail ? `: ${detail}` : ''}.`);
    }
    return new PullError('http', `${this.endpoint} answered ${status}${detail ? ` (${detail})` : ''} for ${what}.`);
  }
}
