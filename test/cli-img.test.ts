import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseParameters } from '../src/engine/output/parameters.ts';
import { readTextChunks } from '../src/engine/output/png.ts';
import { buildModel } from '../src/models/builder/index.ts';
import { fixtureDir } from './engine/fixtures.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let work: string;

interface Run {
  code: number;
  stderr: string;
}

/** Runs the CLI as `npm run imagine --` does (tsx), in a scratch folder. */
function imagine(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/imagine.ts'), '--provider', 'cpu', ...args], { cwd: work, timeout: 120_000 }, (error, _stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr }),
    );
  });
}

const lines = (text: string) => text.split('\n').filter((line) => line.trim().length > 0);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imagine-cli-img-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('imagine CLI: img2img, unconditional models, the safety checker', () => {
  const init = join(fixtureDir('img2img'), 'init-96x64.png');

  it('--init-image takes the image size when no --width/--height is given, and records the strength', async () => {
    const run = await imagine(['--prompt', 'a hill', '--model', fixtureDir('parity-img2img'), '--init-image', init, '--strength', '0.5', '--steps', '6', '--seed', '4', '--out', 'hill.png']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('hill.png · seed 4 · pndm · 6 steps · 96×64 · img2img strength 0.5');
    const png = await readFile(join(work, 'hill.png'));
    expect(await sharp(png).metadata()).toMatchObject({ width: 96, height: 64 });
    expect(parseParameters(readTextChunks(png).parameters!).fields).toMatchObject({ 'Denoising strength': '0.5', Size: '96x64' });
  });

  it('--width/--height resize the init image; bad init images and strengths end with one line and no file', async () => {
    const resized = await imagine(['--prompt', 'a hill', '--model', fixtureDir('parity-img2img'), '--init-image', init, '--width', '44', '--height', '40', '--steps', '4', '--out', 'small.png']);
    expect(resized.code).toBe(0);
    expect(await sharp(await readFile(join(work, 'small.png'))).metadata()).toMatchObject({ width: 40, height: 40 });

    const missing = await imagine(['--prompt', 'x', '--model', fixtureDir('parity-img2img'), '--init-image', 'nope.png', '--out', 'bad.png']);
    expect(missing.code).toBe(1);
    expect(lines(missing.stderr).at(-1)).toBe('imagine: --init-image nope.png: no such file');
    const tooWeak = await imagine(['--prompt', 'x', '--model', fixtureDir('parity-img2img'), '--init-image', init, '--steps', '4', '--strength', '0.2', '--out', 'bad.png']);
    expect(tooWeak.code).toBe(1);
    expect(lines(tooWeak.stderr).at(-1)).toMatch(/^imagine: strength 0.2 × 4 steps leaves no step to run/);
    const noEncoder = await imagine(['--prompt', 'x', '--model', fixtureDir('parity-eps'), '--init-image', init, '--out', 'bad.png']);
    expect(noEncoder.code).toBe(1);
    expect(lines(noEncoder.stderr).at(-1)).toMatch(/^imagine: parity-eps cannot start from an image: .*vae_encoder\/model\.onnx is missing/);
    expect(await readdir(work)).not.toContain('bad.png');
  });

  it('unconditional models need no --prompt and refuse one; text models still require it', async () => {
    const ddpm = fixtureDir('parity-ddpm');
    const run = await imagine(['--model', ddpm, '--steps', '5', '--seed', '1', '--count', '2', '--out', 'face.png']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('face-1.png, face-2.png · seed 1 · ddpm · 5 steps · 32×32');
    const prompted = await imagine(['--model', ddpm, '--prompt', 'a face', '--out', 'bad.png']);
    expect(prompted.code).toBe(1);
    expect(lines(prompted.stderr).at(-1)).toBe('imagine: parity-ddpm draws without a prompt (an unconditional DDPM model): leave the prompt out');
    const unprompted = await imagine(['--model', fixtureDir('parity-eps'), '--out', 'bad.png']);
    expect(unprompted.code).toBe(1);
    expect(lines(unprompted.stderr).at(-1)).toBe('imagine: --prompt is required: say what to draw (only unconditional models draw without one)');
  });

  it('a flagged image is not written and the CLI says why; --safety-checker off writes it', async () => {
    const model = join(work, 'flagging');
    await buildModel(model, { safetyChecker: true, safetyThreshold: -10 });
    const flagged = await imagine(['--prompt', 'a boat', '--model', model, '--steps', '2', '--width', '64', '--height', '64', '--out', 'boat.png']);
    expect(flagged.code).toBe(3);
    expect(flagged.stderr).toContain("imagine: boat.png not written: the model's safety checker flagged it (--safety-checker off writes it anyway)");
    expect(await readdir(work)).not.toContain('boat.png');
    const off = await imagine(['--prompt', 'a boat', '--model', model, '--steps', '2', '--width', '64', '--height', '64', '--safety-checker', 'off', '--out', 'boat.png']);
    expect(off.code).toBe(0);
    expect(await readdir(work)).toContain('boat.png');
  });
});
