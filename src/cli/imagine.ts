import { readFile, rename, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { createEngine } from '../engine/engine.ts';
import type { EngineLogger } from '../engine/logger.ts';
import { SCHEDULER_NAMES } from '../engine/schedulers/scheduler.ts';
import { EngineError, type GenerateRequest, type ProviderChoice } from '../engine/types.ts';
import { resolveModelDir } from '../models/default-model.ts';
import { choiceOption, exitWithError, integerOption, numberOption } from './cli-errors.ts';

const PROVIDERS: readonly ProviderChoice[] = ['auto', 'cpu', 'cuda', 'webgpu'];

const SWITCH = ['on', 'off'] as const;

interface CliOptions {
  prompt?: string;
  initImage?: string;
  strength?: number;
  safetyChecker: (typeof SWITCH)[number];
  negative?: string;
  model?: string;
  seed?: number;
  steps?: number;
  guidance?: number;
  scheduler?: GenerateRequest['scheduler'];
  width?: number;
  height?: number;
  count?: number;
  provider: ProviderChoice;
  out?: string;
  verbose?: boolean;
}

function outputPaths(out: string, count: number): string[] {
  if (count === 1) return [out];
  const extension = extname(out) || '.png';
  const stem = out.slice(0, out.length - extname(out).length);
  return Array.from({ length: count }, (_, i) => `${stem}-${i + 1}${extension}`);
}

async function readInitImage(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : code === 'EACCES' ? 'permission denied' : 'cannot be read';
    throw new EngineError('invalid-request', `--init-image ${path}: ${why}`, { cause: error });
  }
}

function stderrLogger(verbose: boolean): EngineLogger {
  const line = (msg?: string) => msg && process.stderr.write(`${msg}\n`);
  return {
    debug: (_obj, msg) => verbose && line(msg),
    info: (_obj, msg) => line(msg),
    warn: (_obj, msg) => line(`warning: ${msg}`),
    error: (_obj, msg) => line(`error: ${msg}`),
  };
}

async function main(): Promise<void> {
  const program = new Command('imagine')
    .description('Generate an image with Stable Diffusion or SDXL (ONNX) from a text prompt, an init image, or (unconditional models) neither')
    .option('-p, --prompt <text>', 'what to draw (required, except for unconditional models, which take none)')
    .option('-n, --negative <text>', 'what to avoid (the unconditional side of guidance; none given: "" for SD, zeros for SDXL)')
    .option('-m, --model <dir>', 'model folder in the diffusers ONNX layout (default: models/emoji-sd; a folder named tiny-sd is built on first use)')
    .option('--seed <n>', 'seed, 0 … 4294967295 (random when omitted)', integerOption('--seed'))
    .option('--steps <n>', 'denoising steps, 1 … 150, up to 1000 for unconditional models (default 25)', integerOption('--steps'))
    .option('--guidance <g>', 'classifier-free guidance scale, 0 … 30 (default 7.5)', numberOption('--guidance'))
    .addOption(
      new Option('--scheduler <name>', "scheduler (default: the model's own)").argParser(choiceOption('--scheduler', SCHEDULER_NAMES)),
    )
    .option('--width <px>', "image width, a multiple of 8 (default: the model's native size)", integerOption('--width'))
    .option('--height <px>', "image height, a multiple of 8 (default: the model's native size)", integerOption('--height'))
    .option('--count <n>', 'images for this prompt, 1 … 4', integerOption('--count'))
    .option('--init-image <file>', 'img2img: start from this PNG, JPEG or WebP (the output takes its size unless --width/--height)')
    .option('--strength <x>', 'img2img: share of the steps run over the init image, above 0 and at most 1 (default 0.8)', numberOption('--strength'))
    .addOption(
      new Option('--safety-checker <on|off>', "run the model's safety checker, if it has one; a flagged image is not written")
        .default('on')
        .argParser(choiceOption('--safety-checker', SWITCH)),
    )
    .addOption(new Option('--provider <name>', 'execution provider').default('auto').argParser(choiceOption('--provider', PROVIDERS)))
    .option('-o, --out <file>', 'output PNG (default: imagine-<seed>.png); with --count, numbered files')
    .option('-v, --verbose', 'more detail on stderr')
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'imagine: ')) })
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .parse();
  const options = program.opts<CliOptions>();

  const logger = stderrLogger(options.verbose === true);
  const initImage = options.initImage === undefined ? undefined : await readInitImage(options.initImage);
  const modelDir = await resolveModelDir(options.model, (dir) => logger.info({}, `building the tiny model in ${dir} …`));
  const engine = await createEngine({ modelDir, provider: options.provider, logger });

  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const bar = new SingleBar({
    format: 'imagine |{bar}| step {value}/{total} · {duration_formatted} elapsed · ETA {eta_formatted}',
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
  });
  let started = false;
  try {
    if (options.prompt === undefined && !engine.info.model.capabilities.unconditional) {
      throw new EngineError('invalid-request', '--prompt is required: say what to draw (only unconditional models draw without one)');
    }
    const result = await engine.generate(
      {
        prompt: options.prompt ?? '',
        initImage,
        strength: options.strength,
        negativePrompt: options.negative,
        seed: options.seed,
        steps: options.steps,
        guidance: options.guidance,
        scheduler: options.scheduler,
        width: options.width,
        height: options.height,
        count: options.count,
      },
      {
        signal: abort.signal,
        safetyCheck: options.safetyChecker === 'on',
        previewEvery: 0,
        onProgress: ({ step, totalSteps }) => {
          if (!started) {
            bar.start(totalSteps, 0);
            started = true;
          }
          bar.update(step);
        },
      },
    );
    if (started) bar.stop();
    const request = result.request;
    const paths = outputPaths(options.out ?? `imagine-${request.seed}.png`, result.images.length);
    const written: string[] = [];
    // Write beside the target and rename, so a failed run never leaves a half-written image.
    for (const [index, image] of result.images.entries()) {
      const path = paths[index]!;
      if (image.nsfw === true) {
        process.stderr.write(`imagine: ${path} not written: the model's safety checker flagged it (--safety-checker off writes it anyway)\n`);
        continue;
      }
      await writeFile(`${path}.partial`, image.png);
      await rename(`${path}.partial`, path);
      written.push(path);
    }
    for (const note of result.notes ?? []) process.stderr.write(`note: ${note}\n`);
    const img2img = request.strength === undefined ? '' : ` · img2img strength ${request.strength}`;
    process.stderr.write(
      `${written.join(', ') || 'no image written'} · seed ${request.seed} · ${request.scheduler} · ${request.steps} steps · ${request.width}×${request.height}${img2img} · ` +
        `${(result.timings.totalMs / 1000).toFixed(1)} s (${result.timings.perStepMs.toFixed(0)} ms/step) on ${engine.info.provider}\n`,
    );
    if (written.length === 0) process.exitCode = 3;
  } finally {
    if (started) bar.stop();
    await engine.close();
  }
}

main().catch((error: unknown) => exitWithError('imagine', error));
