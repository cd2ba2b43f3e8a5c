import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile as readFileBuffer, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseParameters } from '../src/engine/output/parameters.ts';
import { readTextChunks } from '../src/engine/output/png.ts';
import { fixtureDir } from './engine/fixtures.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// tsx's loader by absolute URL: the CLI runs from a scratch folder where `tsx` would not resolve.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let work: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as `npm run imagine --` does (tsx), in a scratch folder. */
function imagine(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, join(ROOT, 'src/cli/imagine.ts'), ...args],
      { cwd: work, env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** stderr lines a user would read, minus ONNX Runtime's own native warnings. */
function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim().length > 0);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imagine-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('imagine CLI', () => {
  const model = fixtureDir('parity-eps');

  it('writes a PNG with its parameters and reports the seed', async () => {
    const run = await imagine(['--prompt', 'a small house', '--negative', 'fog', '--model', model, '--seed', '77', '--steps', '4', '--guidance', '5', '--scheduler', 'euler-a', '--width', '64', '--height', '48', '--provider', 'cpu', '--out', 'house.png']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('house.png · seed 77 · euler-a · 4 steps · 64×48');
    const png = await import('node:fs/promises').then((fs) => fs.readFile(join(work, 'house.png')));
    expect(await sharp(png).metadata()).toMatchObject({ width: 64, height: 48, format: 'png' });
    const parameters = parseParameters(readTextChunks(png).parameters!);
    expect(parameters).toMatchObject({ prompt: 'a small house', negativePrompt: 'fog' });
    expect(parameters.fields).toMatchObject({ Seed: '77', Steps: '4', 'CFG scale': '5', Sampler: 'Euler a', Size: '64x48' });
  });

  it('an SDXL-Turbo folder: its native 512 and Euler ancestral, one step without guidance', async () => {
    const run = await imagine(['--prompt', 'a raccoon', '--model', fixtureDir('parity-xl-turbo'), '--seed', '3', '--steps', '1', '--guidance', '0', '--provider', 'cpu', '--out', 'turbo.png']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('turbo.png · seed 3 · euler-a · 1 steps · 512×512');
    const png = await import('node:fs/promises').then((fs) => fs.readFile(join(work, 'turbo.png')));
    expect(await sharp(png).metadata()).toMatchObject({ width: 512, height: 512, format: 'png' });
  });

  it('numbers the files of a batch', async () => {
    const run = await imagine(['--prompt', 'pair', '--model', model, '--steps', '2', '--width', '32', '--height', '32', '--count', '2', '--out', 'pair.png']);
    expect(run.code).toBe(0);
    expect((await readdir(work)).filter((f) => f.startsWith('pair'))).toEqual(['pair-1.png', 'pair-2.png']);
  });

  const bad: [string, string[], RegExp][] = [
    ['a malformed number', ['--steps', 'ten'], /--steps must be a whole number, got "ten"/],
    ['steps out of range', ['--steps', '0'], /steps must be a whole number from 1 to 150, got 0/],
    ['guidance out of range', ['--guidance', '99'], /guidance must be a number from 0 to 30, got 99/],
    ['a size not a multiple of 8', ['--width', '100'], /width must be a multiple of 8/],
    ['an unknown scheduler', ['--scheduler', 'plms'], /--scheduler must be one of ddim, ddpm/],
    ['an unknown provider', ['--provider', 'tpu'], /--provider must be one of auto, cpu, cuda, webgpu/],
    ['a seed out of range', ['--seed', '4294967296'], /seed must be a whole number from 0 to 4294967295/],
    ['a missing model folder', ['--model', '/nonexistent/model'], /\/nonexistent\/model: model folder not found/],
    ['cuda without its provider', ['--provider', 'cuda'], /provider cuda: the CUDA provider is not installed; run `npm run cuda:install`/],
  ];
  for (const [name, args, message] of bad) {
    it(`${name}: one line on stderr, non-zero exit, no file`, async () => {
      const out = `bad-${name.replace(/\W+/g, '-')}.png`;
      const run = await imagine(['--prompt', 'x', '--model', model, '--width', '32', '--height', '32', '--steps', '2', ...args, '--out', out]);
      expect(run.code).not.toBe(0);
      const errorLines = lines(run.stderr).filter((line) => line.startsWith('imagine:'));
      expect(errorLines).toHaveLength(1);
      expect(errorLines[0]).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect((await readdir(work)).filter((f) => f.startsWith(out.replace('.png', '')))).toEqual([]);
    });
  }

  it('no --prompt for a text-to-image model: one line saying it is required', async () => {
    const run = await imagine(['--model', model, '--provider', 'cpu']);
    expect(run.code).toBe(1);
    expect(lines(run.stderr).at(-1)).toBe('imagine: --prompt is required: say what to draw (only unconditional models draw without one)');
  });

  it('a broken model file: one line naming it', async () => {
    const broken = join(work, 'broken-model');
    await cp(model, broken, { recursive: true });
    await writeFile(join(broken, 'unet/model.onnx'), Buffer.from('truncated'));
    const run = await imagine(['--prompt', 'x', '--model', broken, '--out', 'broken.png']);
    expect(run.code).toBe(1);
    expect(lines(run.stderr).filter((l) => l.startsWith('imagine:'))).toEqual([expect.stringContaining(`${join(broken, 'unet/model.onnx')}: `)]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a --model folder named tiny-sd is built once, then reused', async () => {
    const tiny = join(work, 'models', 'tiny-sd');
    const first = await imagine(['--prompt', 'abstract', '--model', tiny, '--steps', '2', '--width', '64', '--height', '64', '--out', 'tiny.png']);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`building the tiny model in ${tiny}`);
    expect(await readdir(tiny)).toEqual(expect.arrayContaining(['model_index.json', 'unet', 'text_encoder', 'vae_decoder', 'tokenizer', 'scheduler']));
    const second = await imagine(['--prompt', 'abstract', '--model', tiny, '--steps', '2', '--width', '64', '--height', '64', '--out', 'tiny2.png']);
    expect(second.code).toBe(0);
    expect(second.stderr).not.toContain('building the tiny model');
  });

  it('with no --model, draws with the committed models/emoji-sd at its native 64×64', async () => {
    const run = await imagine(['--prompt', 'red apple', '--seed', '7', '--steps', '4', '--out', 'emoji.png']);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('building');
    const metadata = await sharp(join(work, 'emoji.png')).metadata();
    expect({ width: metadata.width, height: metadata.height }).toEqual({ width: 64, height: 64 });
    expect(parseParameters(readTextChunks(await readFileBuffer(join(work, 'emoji.png'))).parameters ?? '').fields.Model).toBe('emoji-sd');
  });
});
