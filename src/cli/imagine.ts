import { rename, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { createEngine } from '../engine/engine.ts';
import type { EngineLogger } from '../engine/logger.ts';
import { SCHEDULER_NAMES } from '../engine/schedulers/scheduler.ts';
import type { GenerateRequest, ProviderChoice } from '../engine/types.ts';
import { resolveModelDir } from '../models/default-model.ts';
import { choiceOption, exitWithError, integerOption, numberOption } from './cli-errors.ts';

const PROVIDERS: readonly ProviderChoice[] = ['auto', 'cpu', 'cuda', 'webgpu'];

interface CliOptions {
  prompt: string;
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
    .description('Generate an image with Stable Diffusion (ONNX) from a text prompt')
    .requiredOption('-p, --prompt <text>', 'what to draw')
    .option('-n, --negative <text>', 'what to avoid (the unconditional side of guidance)')
    .option('-m, --model <dir>', 'model folder in the diffusers ONNX layout (default: models/emoji-sd; a folder named tiny-sd is built on first use)')
    .option('--seed <n>', 'seed, 0 … 4294967295 (random when omitted)', integerOption('--seed'))
    .option('--steps <n>', 'denoising steps, 1 … 150 (default 25)', integerOption('--steps'))
    .option('--guidance <g>', 'classifier-free guidance scale, 0 … 30 (default 7.5)', numberOption('--guidance'))
    .addOption(
      new Option('--scheduler <name>', "scheduler (default: the model's own)").argParser(choiceOption('--scheduler', SCHEDULER_NAMES)),
    )
    .option('--width <px>', "image width, a multiple of 8 (default: the model's native size)", integerOption('--width'))
    .option('--height <px>', "image height, a multiple of 8 (default: the model's native size)", integerOption('--height'))
    .option('--count <n>', 'images for this prompt, 1 … 4', integerOption('--count'))
    .addOption(new Option('--provider <name>', 'execution provider').default('auto').argParser(choiceOption('--provider', PROVIDERS)))
    .option('-o, --out <file>', 'output PNG (default: imagine-<seed>.png); with --count, numbered files')
    .option('-v, --verbose', 'more detail on stderr')
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'imagine: ')) })
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .parse();
  const options = program.opts<CliOptions>();

  const logger = stderrLogger(options.verbose === true);
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
    const result = await engine.generate(
      {
        prompt: options.prompt,
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
    // Write beside the target and rename, so a failed run never leaves a half-written image.
    for (const [index, image] of result.images.entries()) {
      const path = paths[index]!;
      await writeFile(`${path}.partial`, image.png);
      await rename(`${path}.partial`, path);
    }
    process.stderr.write(
      `${paths.join(', ')} · seed ${request.seed} · ${request.scheduler} · ${request.steps} steps · ${request.width}×${request.height} · ` +
        `${(result.timings.totalMs / 1000).toFixed(1)} s (${result.timings.perStepMs.toFixed(0)} ms/step) on ${engine.info.provider}\n`,
    );
  } finally {
    if (started) bar.stop();
    await engine.close();
  }
}

main().catch((error: unknown) => exitWithError('imagine', error));
