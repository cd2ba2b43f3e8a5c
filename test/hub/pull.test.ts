import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PullError } from '../../src/models/hub/errors.ts';
import { defaultModelDir, pullModel } from '../../src/models/hub/pull.ts';
import type { PullOptions, PullProgressEvent } from '../../src/models/hub/pull.ts';
import { isEngineFile } from '../../src/models/hub/select.ts';
import { commitOf, onnxRepoFiles, pytorchRepoFiles, startFakeHub } from './fake-hub.ts';
import type { FakeFile, FakeHub } from './fake-hub.ts';

const REPO = 'fake-org/tiny-sd-onnx';
const files = onnxRepoFiles();
const wanted = files.filter((file) => isEngineFile(file.path));
const weights = 'unet/weights.pb';
const contentOf = (path: string): Buffer => files.find((file) => file.path === path)!.content;
const component = (library: string, name: string): [string, string] => [library, name];
/** An SDXL layout whose model_index.json lists its parts, as optimum writes it. */
const xlIndex = Buffer.from(
  JSON.stringify({
    _class_name: 'ORTStableDiffusionXLPipeline',
    force_zeros_for_empty_prompt: true,
    scheduler: component('diffusers', 'EulerDiscreteScheduler'),
    text_encoder: component('optimum', 'ORTModelTextEncoder'),
    text_encoder_2: component('optimum', 'ORTModelTextEncoder'),
    tokenizer: component('transformers', 'CLIPTokenizer'),
    tokenizer_2: component('transformers', 'CLIPTokenizer'),
    unet: component('optimum', 'ORTModelUnet'),
    vae_decoder: component('optimum', 'ORTModelVaeDecoder'),
    vae_encoder: component('optimum', 'ORTModelVaeEncoder'),
  }),
);
const xlFiles: FakeFile[] = [
  ...files.filter((file) => file.path !== 'model_index.json' && !file.path.startsWith('safety_checker/')),
  { path: 'model_index.json', content: xlIndex },
  { path: 'text_encoder_2/model.onnx', content: Buffer.alloc(12_000, 2), lfs: true },
  { path: 'tokenizer_2/vocab.json', content: Buffer.from('{"!": 0}') },
  { path: 'tokenizer_2/merges.txt', content: Buffer.from('#version: 0.2\n') },
];

let hub: FakeHub;
let dir: string;

beforeEach(async () => {
  hub = await startFakeHub({
    repos: [
      { id: REPO, branches: { main: files, 'refs/pr/1': files }, aliases: ['old-org/tiny-sd'] },
      { id: 'fake-org/gated-sd', branches: { main: files }, gated: true },
      { id: 'fake-org/pytorch-sd', branches: { main: pytorchRepoFiles(), onnx: files } },
      { id: 'fake-org/half-onnx', branches: { main: files.filter((file) => file.path !== 'vae_decoder/model.onnx') } },
      { id: 'fake-org/tiny-sdxl', branches: { main: xlFiles } },
      { id: 'fake-org/xl-no-encoder-2', branches: { main: xlFiles.filter((file) => file.path !== 'text_encoder_2/model.onnx') } },
    ],
  });
  dir = await mkdtemp(join(tmpdir(), 'imagine-pull-'));
});

afterEach(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

function pull(options: Partial<PullOptions> = {}): ReturnType<typeof pullModel> {
  return pullModel({ repo: REPO, endpoint: hub.endpoint, dir, retryDelayMs: 5, ...options });
}

async function pullError(options: Partial<PullOptions> = {}): Promise<PullError> {
  const error: unknown = await pull(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PullError);
  return error as PullError;
}

async function expectIdentical(expected: readonly FakeFile[]): Promise<void> {
  // Buffer.equals: a deep toEqual walks every byte and takes seconds on these sizes.
  for (const file of expected) expect((await readFile(join(dir, file.path))).equals(file.content), file.path).toBe(true);
}

const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

describe('pullModel against a fake hub', () => {
  it('downloads exactly the files the engine needs, verified, from one pinned commit', async () => {
    const events: PullProgressEvent[] = [];
    const result = await pull({ token: hub.token, onProgress: (event) => events.push(event) });

    expect(result.files.map((file) => file.path).sort()).toEqual(wanted.map((file) => file.path).sort());
    expect(result.files.every((file) => file.status === 'downloaded')).toBe(true);
    expect(result.missing).toEqual([]);
    expect(result.commit).toBe(commitOf(REPO, 'main'));
    await expectIdentical(wanted);

    const fetched = hub.requests.filter((r) => r.kind === 'resolve').map((r) => r.file);
    expect(new Set(fetched)).toEqual(new Set(wanted.map((file) => file.path)));
    // Every part a layout can have comes along (img2img encoder, safety checker and its preprocessor); framework weights and docs do not.
    for (const part of ['vae_encoder/model.onnx', 'safety_checker/model.onnx', 'feature_extractor/preprocessor_config.json']) {
      expect(fetched).toContain(part);
      expect(await exists(join(dir, part))).toBe(true);
    }
    for (const skipped of ['.safetensors', 'README.md', '.gitattributes']) {
      expect(fetched.filter((path) => path?.includes(skipped))).toEqual([]);
    }

    // Downloads use the commit, listing was paginated, LFS went through the CDN without the token.
    expect(hub.requests.filter((r) => r.kind === 'resolve').every((r) => r.url.includes(`/resolve/${commitOf(REPO, 'main')}/`))).toBe(true);
    expect(hub.requests.filter((r) => r.url.includes('/tree/')).length).toBeGreaterThan(2);
    const cdn = hub.requests.filter((r) => r.server === 'cdn');
    expect(cdn.length).toBe(wanted.filter((file) => file.lfs).length);
    expect(cdn.every((r) => r.authorization === undefined && r.status === 200)).toBe(true);
    expect(hub.requests.filter((r) => r.server === 'hub').every((r) => r.authorization === `Bearer ${hub.token}`)).toBe(true);

    const start = events.find((event) => event.type === 'start');
    const total = wanted.reduce((sum, file) => sum + file.content.length, 0);
    expect(start).toMatchObject({ type: 'start', totalBytes: total });
    const last = events.filter((event) => event.type === 'progress').at(-1);
    expect(last).toMatchObject({ doneBytes: expect.any(Number), totalBytes: total });
    expect(events.filter((event) => event.type === 'file-done')).toHaveLength(wanted.length);
  });

  it('takes every file with all: true', async () => {
    const result = await pull({ all: true });
    expect(result.files).toHaveLength(files.length);
    await expectIdentical(files);
  });

  it('skips files already present and re-fetches one whose bytes changed', async () => {
    await pull();
    hub.requests.length = 0;
    const again = await pull();
    expect(again.files.every((file) => file.status === 'skipped')).toBe(true);
    expect(hub.contentRequests()).toEqual([]);

    // Same size, different bytes: only the checksum can tell.
    const damaged = Buffer.from(contentOf(weights));
    damaged[100] = damaged[100]! ^ 0xff;
    await writeFile(join(dir, weights), damaged);
    hub.requests.length = 0;
    const repaired = await pull();
    expect(repaired.files.filter((file) => file.status !== 'skipped').map((file) => file.path)).toEqual([weights]);
    expect(hub.contentRequests().map((r) => r.file)).toEqual([weights]);
    await expectIdentical(wanted);
  });

  it('resumes an interrupted download with a Range request and ends byte-identical', async () => {
    hub.faults.stall.add(weights);
    const controller = new AbortController();
    const error = await pullError({
      signal: controller.signal,
      onProgress: (event) => {
        if (event.type === 'progress' && event.path === weights && event.fileBytes > 0) controller.abort();
      },
    });
    expect(error.kind).toBe('aborted');
    expect(error.message).toMatch(/\.incomplete.*run the same command again/);
    const partSize = (await stat(join(dir, `${weights}.incomplete`))).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThan(contentOf(weights).length);
    expect(await exists(join(dir, weights))).toBe(false);

    hub.faults.stall.clear();
    hub.requests.length = 0;
    const result = await pull();
    expect(hub.contentRequests(weights)).toMatchObject([{ range: `bytes=${partSize}-${contentOf(weights).length - 1}`, status: 206 }]);
    expect(result.files.find((file) => file.path === weights)?.status).toBe('resumed');
    // Files finished before the interruption were not fetched again.
    expect(hub.contentRequests().map((r) => r.file)).not.toContain('text_encoder/model.onnx');
    await expectIdentical(wanted);
    expect(await exists(join(dir, `${weights}.incomplete`))).toBe(false);
  });

  it('retries a connection dropped mid-file from the bytes that arrived', async () => {
    hub.faults.dropOnce.add(weights);
    const retries: PullProgressEvent[] = [];
    await pull({ onProgress: (event) => event.type === 'retry' && retries.push(event) });
    const attempts = hub.contentRequests(weights);
    expect(attempts).toHaveLength(2);
    expect(attempts[0]!.range).toBeUndefined();
    expect(attempts[1]!.range).toMatch(new RegExp(`^bytes=[1-9]\\d*-${contentOf(weights).length - 1}$`));
    expect(retries).toMatchObject([{ path: weights, attempt: 1 }]);
    await expectIdentical(wanted);
  });

  it('starts over when the server answers 200 to a Range request', async () => {
    await mkdir(join(dir, 'unet'), { recursive: true });
    // Garbage in the part file proves the restart: keeping it would fail the checksum.
    await writeFile(join(dir, `${weights}.incomplete`), Buffer.alloc(1000, 7));
    hub.faults.ignoreRange.add(weights);
    const result = await pull();
    expect(hub.contentRequests(weights)).toMatchObject([{ range: `bytes=1000-${contentOf(weights).length - 1}`, status: 200 }]);
    expect(result.files.find((file) => file.path === weights)?.status).toBe('downloaded');
    await expectIdentical(wanted);
  });

  it('treats a part file that already has every byte as complete, without asking for more', async () => {
    await mkdir(join(dir, 'unet'), { recursive: true });
    await writeFile(join(dir, `${weights}.incomplete`), contentOf(weights));
    await pull();
    expect(hub.contentRequests(weights)).toEqual([]);
    await expectIdentical(wanted);
  });

  it('fetches the second text encoder and tokenizer of an SDXL layout', async () => {
    const result = await pull({ repo: 'fake-org/tiny-sdxl' });
    expect(result.missing).toEqual([]);
    for (const part of ['text_encoder_2/model.onnx', 'tokenizer_2/vocab.json', 'tokenizer_2/merges.txt']) {
      expect(result.files.map((file) => file.path)).toContain(part);
    }
    await expectIdentical(xlFiles.filter((file) => isEngineFile(file.path)));
  });

  it('refuses a repo missing a part that model_index.json lists, before the large downloads', async () => {
    const error = await pullError({ repo: 'fake-org/xl-no-encoder-2' });
    expect(error.kind).toBe('not-onnx');
    expect(error.message).toBe(
      'fake-org/xl-no-encoder-2@main is not a complete ONNX diffusers pipeline: missing text_encoder_2/model.onnx (model_index.json needs them).',
    );
    expect(error.message).not.toContain('\n');
    expect(hub.contentRequests().map((r) => r.file)).toEqual(['model_index.json']);
  });

  it('rejects a checksum mismatch, naming the file and deleting the corrupt bytes', async () => {
    hub.faults.corrupt.add(weights);
    const error = await pullError();
    expect(error.kind).toBe('checksum');
    expect(error.message).toContain(weights);
    expect(error.message).not.toContain('\n');
    expect(await exists(join(dir, weights))).toBe(false);
    expect(await exists(join(dir, `${weights}.incomplete`))).toBe(false);
  });

  it('follows relative redirects of a renamed repo and URL-encodes revisions with slashes', async () => {
    await pull({ repo: 'old-org/tiny-sd' });
    await expectIdentical(wanted);

    await rm(dir, { recursive: true });
    hub.requests.length = 0;
    const result = await pull({ revision: 'refs/pr/1' });
    expect(result.commit).toBe(commitOf(REPO, 'refs/pr/1'));
    expect(hub.requests.some((r) => r.url.includes('/revision/refs%2Fpr%2F1'))).toBe(true);
  });

  it('says when a repo does not exist, pointing at HF_TOKEN when none was given', async () => {
    const anonymous = await pullError({ repo: 'fake-org/nope' });
    expect(anonymous.kind).toBe('repo-not-found');
    expect(anonymous.message).toMatch(/fake-org\/nope not found.*HF_TOKEN/);

    const withToken = await pullError({ repo: 'fake-org/nope', token: hub.token });
    expect(withToken.kind).toBe('repo-not-found');
    expect(withToken.message).toContain('fake-org/nope not found');
  });

  it('explains a gated repo needs a token, and pulls it with one', async () => {
    const error = await pullError({ repo: 'fake-org/gated-sd' });
    expect(error.kind).toBe('unauthorized');
    expect(error.message).toMatch(/gated.*HF_TOKEN/);

    await pull({ repo: 'fake-org/gated-sd', token: hub.token });
    await expectIdentical(wanted);
  });

  it('names a missing revision', async () => {
    const error = await pullError({ revision: 'no-such-branch' });
    expect(error.kind).toBe('revision-not-found');
    expect(error.message).toContain("'no-such-branch'");
  });

  it('refuses a repo without ONNX files and suggests its onnx revision', async () => {
    const error = await pullError({ repo: 'fake-org/pytorch-sd' });
    expect(error.kind).toBe('not-onnx');
    expect(error.message).toContain('--revision onnx');
    expect(hub.requests.filter((r) => r.kind === 'resolve')).toEqual([]);

    await pull({ repo: 'fake-org/pytorch-sd', revision: 'onnx' });
    await expectIdentical(wanted);
  });

  it('lists the missing graphs of an incomplete ONNX export', async () => {
    const error = await pullError({ repo: 'fake-org/half-onnx' });
    expect(error.kind).toBe('not-onnx');
    expect(error.message).toContain('missing vae_decoder/model.onnx');
  });

  it('names the endpoint when the hub cannot be reached', async () => {
    const closed = await startFakeHub({ repos: [] });
    await closed.close();
    const error = await pullError({ endpoint: closed.endpoint });
    expect(error.kind).toBe('network');
    expect(error.message).toContain(closed.endpoint);
    expect(error.message).toContain('connection refused');
  });

  it('stops at once on an already-aborted signal', async () => {
    const error = await pullError({ signal: AbortSignal.abort() });
    expect(error.kind).toBe('aborted');
    expect(hub.contentRequests()).toEqual([]);
  });

  it('names the path when the destination cannot be created', async () => {
    const blocker = join(dir, 'file');
    await writeFile(blocker, 'not a folder');
    const error = await pullError({ dir: join(blocker, 'model') });
    expect(error.kind).toBe('filesystem');
    expect(error.message).toContain(join(blocker, 'model'));
  });

  it('defaults the destination to models/<repo name>', () => {
    expect(defaultModelDir('stable-diffusion-v1-5/stable-diffusion-v1-5')).toBe(join('models', 'stable-diffusion-v1-5'));
    expect(defaultModelDir('owner/name', '/data')).toBe(join('/data', 'name'));
  });
});
