import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from './errors.ts';
import { bucketHash, faultResponse } from './faults.ts';
import type { FaultInjector, PlannedResponse, RateLimiter } from './faults.ts';
import { BodyParseError, parseBody } from './multipart.ts';
import type { UploadedFile } from './multipart.ts';
import type { Core } from './core.ts';

export interface RequestLogEntry {
  /** ms since the epoch when the request arrived. */
  at: number;
  method: string;
  /** API path without `/api/v10` and without the query, e.g. `/channels/123/messages`. */
  path: string;
  query: Record<string, string>;
  /** The matched route pattern (e.g. `/channels/:channelId/messages`), null when unknown. */
  route: string | null;
  status: number;
  durationMs: number;
  auth: 'bot' | 'none' | 'invalid';
  /** The JSON body (payload_json for multipart). */
  body: unknown;
  files: { field: string; filename: string; contentType: string; size: number }[];
  /** Id of the injected fault that answered it, if any. */
  fault?: number;
  /** Discord error code/message answered, if any. */
  error?: { code: number; message: string };
}

export interface RouteContext {
  core: Core;
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  json: unknown;
  files: UploadedFile[];
  /** When the request arrived (ms since the epoch). */
  arrivedAt: number;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
  /** Side result for `record` (e.g. the message an edit produced). */
  result?: unknown;
}

export interface Outcome {
  status: number;
  ok: boolean;
  error?: { code: number; message: string };
  result?: unknown;
}

export interface Route {
  method: string;
  pattern: string;
  auth: boolean;
  handler: (ctx: RouteContext) => HandlerResult | Promise<HandlerResult>;
  /** Called after every request on this route, including ones answered by a fault or rate limit. */
  record?: (ctx: RouteContext, outcome: Outcome) => void;
}

interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.pattern
    .split('/')
    .map((part) => {
      if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(part.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { ...route, regex: new RegExp(`^${source}$`), names };
}

/** The top-level resource @discordjs/rest and Discord key buckets on. */
function majorParameter(params: Record<string, string>): string {
  if (params.appId && params.token) return `${params.appId}/${params.token}`;
  return params.channelId ?? params.guildId ?? params.interactionId ?? 'global';
}

export class RestServer {
  readonly requests: RequestLogEntry[] = [];
  /** Paths of every attachment download from the CDN (they are not API requests, so not in `requests`). */
  readonly attachmentDownloads: string[] = [];
  private readonly routes: CompiledRoute[];

  constructor(
    private readonly core: Core,
    routes: Route[],
    readonly faults: FaultInjector,
    readonly rateLimiter: RateLimiter,
    private readonly token: () => string,
  ) {
    this.routes = routes.map(compile);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const raw = await readBody(req);

    if (method === 'GET' && url.pathname.startsWith('/attachments/')) {
      this.attachmentDownloads.push(url.pathname);
      this.serveAttachment(url.pathname, res);
      return;
    }
    const api = /^\/api\/v(\d+)(\/.*)$/.exec(url.pathname);
    const rawPath = api ? api[2]! : url.pathname;
    // discord.js percent-encodes segments (`%40original`, emoji, `:` in interaction tokens); logs and
    // fault patterns use the decoded form, routing the raw one so an encoded `/` cannot split a segment.
    const path = rawPath.split('/').map(safeDecode).join('/');
    const authHeader = req.headers.authorization;
    const entry: RequestLogEntry = {
      at: arrivedAt,
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      route: null,
      status: 0,
      durationMs: 0,
      auth: authHeader === undefined ? 'none' : authHeader === `Bot ${this.token()}` ? 'bot' : 'invalid',
      body: undefined,
      files: [],
    };
    this.requests.push(entry);
    let ctx: RouteContext | undefined;
    let route: CompiledRoute | undefined;
    let planned: PlannedResponse;
    let result: unknown;
    try {
      if (!api || api[1] !== '10') throw new ApiError(404, 0, 'Unknown route');
      const parsed = await parseBody(req.headers, raw).catch((error: unknown) => {
        if (error instanceof BodyParseError) throw new ApiError(400, 50109, error.message);
        throw error;
      });
      entry.body = parsed.json;
      entry.files = parsed.files.map((f) => ({ field: f.field, filename: f.filename, contentType: f.contentType, size: f.data.length }));
      let params: Record<string, string> = {};
      route = this.routes.find((r) => {
        if (r.method !== method) return false;
        const match = r.regex.exec(rawPath);
        if (!match) return false;
        params = Object.fromEntries(r.names.map((name, i) => [name, safeDecode(match[i + 1]!)]));
        return true;
      });
      entry.route = route?.pattern ?? null;
      ctx = { core: this.core, method, path, params, query: url.searchParams, json: parsed.json, files: parsed.files, arrivedAt };

      const fault = this.faults.take(method, path);
      if (fault) {
        entry.fault = fault.id;
        if (fault.delayMs) await sleep(fault.delayMs);
      }
      if (fault?.status !== undefined) {
        planned = faultResponse({ ...fault, status: fault.status }, bucketHash(method, route?.pattern ?? path));
      } else if (!route) {
        planned = { status: 404, headers: {}, body: { message: 'Unknown route', code: 0 } };
      } else if (route.auth && entry.auth !== 'bot') {
        planned = { status: 401, headers: {}, body: { message: '401: Unauthorized', code: 0 } };
      } else {
        const limit = this.rateLimiter.check(method, path, route.pattern, majorParameter(params));
        if (!limit.ok) {
          planned = limit.response;
        } else {
          const handled = await route.handler(ctx);
          result = handled.result;
          planned = { status: handled.status, headers: limit.headers, body: handled.body };
        }
      }
    } catch (error) {
      if (error instanceof ApiError) {
        planned = { status: error.status, headers: error.headers, body: error.toBody() };
      } else {
        // A bug in the fake itself: surface it loudly instead of pretending Discord failed.
        console.error('[fake-discord] handler crashed', method, path, error);
        planned = { status: 500, headers: {}, body: { message: `fake-discord crashed: ${(error as Error).message}`, code: 0 } };
      }
    }

    entry.status = planned.status;
    const errorBody = planned.body as { code?: unknown; message?: unknown } | undefined;
    if (planned.status >= 400) {
      entry.error = {
        code: typeof errorBody === 'object' && typeof errorBody?.code === 'number' ? errorBody.code : 0,
        message: typeof errorBody === 'object' && typeof errorBody?.message === 'string' ? errorBody.message : String(planned.status),
      };
    }
    if (route?.record && ctx) {
      try {
        route.record(ctx, { status: planned.status, ok: planned.status < 400, error: entry.error, result });
      } catch (error) {
        console.error('[fake-discord] recorder crashed', error);
      }
    }
    entry.durationMs = Date.now() - arrivedAt;
    this.send(res, planned);
  }

  private send(res: ServerResponse, planned: PlannedResponse): void {
    const headers: Record<string, string> = { ...planned.headers };
    if (planned.body === undefined || planned.status === 204) {
      res.writeHead(planned.status, headers);
      res.end();
      return;
    }
    const text = typeof planned.body === 'string' ? planned.body : JSON.stringify(planned.body);
    headers['Content-Type'] ??= typeof planned.body === 'string' ? 'text/plain' : 'application/json';
    res.writeHead(planned.status, headers);
    res.end(text);
  }

  private serveAttachment(pathname: string, res: ServerResponse): void {
    const id = pathname.split('/')[3] ?? '';
    const attachment = this.core.state.attachments.get(id);
    if (!attachment) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('This content is no longer available.');
      return;
    }
    res.writeHead(200, { 'Content-Type': attachment.content_type ?? 'application/octet-stream', 'Content-Length': String(attachment.data.length) });
    res.end(attachment.data);
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
