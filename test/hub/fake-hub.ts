import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for the Hugging Face hub: the tree/revision/refs API as @huggingface/hub calls it, resolve URLs that
 * bounce LFS files to a "CDN" on another port, Range support, and switchable faults.
 */

export interface FakeFile {
  path: string;
  content: Buffer;
  lfs?: boolean;
}

export interface FakeRepo {
  id: string;
  branches: Record<string, FakeFile[]>;
  /** Listing is public, downloads need the token (X-Error-Code: GatedRepo). */
  gated?: boolean;
  /** Other ids that answer with a relative 307 to this one, as renamed repos do. */
  aliases?: string[];
}

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  kind: 'api' | 'resolve' | 'cdn' | 'other';
  /** Raw path and query as sent, before any decoding. */
  url: string;
  /** Repo file path for resolve and CDN requests. */
  file?: string;
  range?: string;
  authorization?: string;
  status?: number;
}

export interface Faults {
  /** Send half the body, then cut the connection (once per path). */
  dropOnce: Set<string>;
  /** Send half the body, then hang until the client gives up. */
  stall: Set<string>;
  /** Ignore Range headers and answer 200 with the whole file. */
  ignoreRange: Set<string>;
  /** Serve random bytes of the right length. */
  corrupt: Set<string>;
}

export interface FakeHub {
  endpoint: string;
  cdnOrigin: string;
  token: string;
  requests: LoggedRequest[];
  faults: Faults;
  /** Requests that fetched file bytes (hub resolve answered directly, or CDN). */
  contentRequests(file?: string): LoggedRequest[];
  close(): Promise<void>;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function gitBlobId(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

export function commitOf(repo: string, branch: string): string {
  return createHash('sha1').update(`${repo}@${branch}`).digest('hex');
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** A small diffusers ONNX layout plus the extras a real repo carries that the engine does not need. */
export function onnxRepoFiles(options: { weightsSize?: number } = {}): FakeFile[] {
  const weights = options.weightsSize ?? 256 * 1024;
  return [
    { path: '.gitattributes', content: Buffer.from('*.onnx filter=lfs diff=lfs merge=lfs -text\n') },
    { path: 'README.md', content: Buffer.from('# fake\n') },
    { path: 'model_index.json', content: json({ _class_name: 'OnnxStableDiffusionPipeline' }) },
    { path: 'scheduler/scheduler_config.json', content: json({ _class_name: 'PNDMScheduler', num_train_timesteps: 1000 }) },
    { path: 'tokenizer/vocab.json', content: json({ '<|startoftext|>': 49406 }) },
    { path: 'tokenizer/merges.txt', content: Buffer.from('#version: 0.2\nt h\n') },
    { path: 'tokenizer/special_tokens_map.json', content: json({}) },
    { path: 'tokenizer/tokenizer_config.json', content: json({ model_max_length: 77 }) },
    { path: 'feature_extractor/preprocessor_config.json', content: json({}) },
    { path: 'text_encoder/model.onnx', content: randomBytes(20_000), lfs: true },
    { path: 'unet/model.onnx', content: randomBytes(30_000), lfs: true },
    { path: 'unet/weights.pb', content: randomBytes(weights), lfs: true },
    { path: 'unet/diffusion_pytorch_model.safetensors', content: randomBytes(5_000), lfs: true },
    { path: 'vae_decoder/model.onnx', content: randomBytes(15_000), lfs: true },
    { path: 'vae_encoder/model.onnx', content: randomBytes(15_000), lfs: true },
    { path: 'safety_checker/model.onnx', content: randomBytes(15_000), lfs: true },
  ];
}

/** A PyTorch-only diffusers layout, as on many repos' main branch. */
export function pytorchRepoFiles(): FakeFile[] {
  return [
    { path: 'model_index.json', content: json({ _class_name: 'StableDiffusionPipeline' }) },
    { path: 'unet/config.json', content: json({}) },
    { path: 'unet/diffusion_pytorch_model.safetensors', content: randomBytes(4_000), lfs: true },
    { path: 'text_encoder/model.safetensors', content: randomBytes(4_000), lfs: true },
  ];
}

function treeEntries(files: FakeFile[]): unknown[] {
  const dirs = new Set<string>();
  for (const file of files) {
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const entries: unknown[] = [...dirs].map((path) => ({ type: 'directory', path, oid: gitBlobId(Buffer.from(path)), size: 0 }));
  for (const file of files) {
    if (file.lfs) {
      const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(file.content)}\nsize ${file.content.length}\n`);
      entries.push({ type: 'file', path: file.path, oid: gitBlobId(pointer), size: file.content.length, lfs: { oid: sha256(file.content), size: file.content.length, pointerSize: pointer.length } });
    } else {
      entries.push({ type: 'file', path: file.path, oid: gitBlobId(file.content), size: file.content.length });
    }
  }
  return entries;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startFakeHub(options: { repos: FakeRepo[]; pageSize?: number; token?: string }): Promise<FakeHub> {
  const token = options.token ?? 'hf_fake_token';
  const pageSize = options.pageSize ?? 5;
  const requests: LoggedRequest[] = [];
  const faults: Faults = { dropOnce: new Set(), stall: new Set(), ignoreRange: new Set(), corrupt: new Set() };
  const repos = new Map(options.repos.map((repo) => [repo.id, repo]));
  const aliases = new Map(options.repos.flatMap((repo) => (repo.aliases ?? []).map((alias) => [alias, repo.id] as const)));
  const blobs = new Map<string, FakeFile>();
  for (const repo of options.repos) for (const files of Object.values(repo.branches)) for (const file of files) if (file.lfs) blobs.set(sha256(file.content), file);
  const hanging = new Set<ServerResponse>();

  const authorized = (req: IncomingMessage): boolean => req.headers.authorization === `Bearer ${token}`;

  function filesAt(repo: FakeRepo, revision: string): FakeFile[] | undefined {
    for (const [branch, files] of Object.entries(repo.branches)) {
      if (branch === revision || commitOf(repo.id, branch) === revision) return files;
    }
    return undefined;
  }

  function fail(res: ServerResponse, status: number, code: string | undefined, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json', ...(code ? { 'x-error-code': code } : {}) });
    res.end(JSON.stringify({ error: message }));
  }

  function serveContent(req: IncomingMessage, res: ServerResponse, file: FakeFile): void {
    let body = faults.corrupt.has(file.path) ? randomBytes(file.content.length) : file.content;
    const size = body.length;
    // Open (`bytes=N-`, our resume) and closed (`bytes=N-M`, @huggingface/hub's Blob slices) ranges.
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', etag: `"${sha256(file.content)}"` };
    if (range && !faults.ignoreRange.has(file.path)) {
      const start = Number(range[1]);
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      body = body.subarray(start, end + 1);
      res.writeHead(206, { ...headers, 'content-length': body.length, 'content-range': `bytes ${start}-${end}/${size}` });
    } else {
      res.writeHead(200, { ...headers, 'content-length': size });
    }
    const half = body.subarray(0, Math.floor(body.length / 2));
    if (faults.dropOnce.has(file.path)) {
      faults.dropOnce.delete(file.path);
      res.write(half, () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (faults.stall.has(file.path)) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      res.write(half);
      return;
    }
    res.end(body);
  }

  function handleHub(req: IncomingMessage, res: ServerResponse, entry: LoggedRequest): void {
    const url = new URL(req.url ?? '/', 'http://hub');
    const segments = url.pathname.split('/').slice(1);
    const api = segments[0] === 'api' && segments[1] === 'models';
    const [owner, name, verb, ...rest] = api ? segments.slice(2) : segments;
    const id = `${owner}/${name}`;
    entry.kind = api ? 'api' : verb === 'resolve' ? 'resolve' : 'other';

    const target = aliases.get(id);
    if (target) {
      const path = url.pathname.replace(`/${id}/`, `/${target}/`);
      res.writeHead(307, { location: path + url.search });
      res.end();
      return;
    }
    const repo = repos.get(id);
    if (!repo) return fail(res, authorized(req) ? 404 : 401, 'RepoNotFound', 'Repository not found');

    if (api && verb === 'refs' && rest.length === 0) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ branches: Object.keys(repo.branches).map((branch) => ({ name: branch, ref: `refs/heads/${branch}`, targetCommit: commitOf(repo.id, branch) })), tags: [], converts: [] }));
      return;
    }
    // A revision is one path segment: slashes in it must arrive percent-encoded.
    const revision = decodeURIComponent(rest[0] ?? '');
    const files = filesAt(repo, revision);
    if ((verb === 'revision' || verb === 'tree' || verb === 'resolve') && !files) {
      return fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    }
    if (api && verb === 'revision' && rest.length === 1) {
      const branch = Object.keys(repo.branches).find((b) => b === revision || commitOf(repo.id, b) === revision)!;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: repo.id, sha: commitOf(repo.id, branch), gated: repo.gated ? 'manual' : false, siblings: files!.map((f) => ({ rfilename: f.path })) }));
      return;
    }
    if (api && verb === 'tree' && rest.length === 1) {
      const entries = treeEntries(files!);
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const page = entries.slice(cursor, cursor + pageSize);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cursor + pageSize < entries.length) {
        const next = new URL(url.toString());
        next.searchParams.set('cursor', String(cursor + pageSize));
        headers.link = `<${endpoint}${next.pathname}${next.search}>; rel="next"`;
      }
      res.writeHead(200, headers);
      res.end(JSON.stringify(page));
      return;
    }
    if (!api && verb === 'resolve' && rest.length >= 2) {
      const path = rest.slice(1).map(decodeURIComponent).join('/');
      entry.file = path;
      if (repo.gated && !authorized(req)) return fail(res, 401, 'GatedRepo', 'Access to this model is restricted');
      const file = files!.find((f) => f.path === path);
      if (!file) return fail(res, 404, 'EntryNotFound', 'Entry not found');
      if (file.lfs) {
        res.writeHead(302, { location: `${cdnOrigin}/cdn/${sha256(file.content)}?X-Signature=fake` });
        res.end();
        return;
      }
      return serveContent(req, res, file);
    }
    fail(res, 404, undefined, 'Not found');
  }

  function handleCdn(req: IncomingMessage, res: ServerResponse, entry: LoggedRequest): void {
    entry.kind = 'cdn';
    const match = /^\/cdn\/([0-9a-f]{64})\?X-Signature=fake$/.exec(req.url ?? '');
    const file = match ? blobs.get(match[1]!) : undefined;
    // Presigned URLs refuse a second credential, so a forwarded token is an error here.
    if (!file || req.headers.authorization) {
      res.writeHead(400);
      res.end('bad request');
      return;
    }
    entry.file = file.path;
    serveContent(req, res, file);
  }

  const makeServer = (server: 'hub' | 'cdn', handle: typeof handleHub): Server =>
    createServer((req, res) => {
      const entry: LoggedRequest = { server, kind: 'other', url: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization };
      requests.push(entry);
      res.on('close', () => (entry.status = res.statusCode));
      handle(req, res, entry);
    });

  const hubServer = makeServer('hub', handleHub);
  const cdnServer = makeServer('cdn', handleCdn);
  const endpoint = await listen(hubServer);
  const cdnOrigin = await listen(cdnServer);

  return {
    endpoint,
    cdnOrigin,
    token,
    requests,
    faults,
    contentRequests: (file) =>
      requests.filter((r) => (r.kind === 'cdn' || (r.kind === 'resolve' && r.status !== 302)) && (file === undefined || r.file === file)),
    async close() {
      for (const res of hanging) res.destroy();
      for (const server of [hubServer, cdnServer]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
