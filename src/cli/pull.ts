import { relative, isAbsolute } from 'node:path';
import { Command } from 'commander';
import { DEFAULT_ENDPOINT } from '../models/hub/client.ts';
import { PullError } from '../models/hub/errors.ts';
import { createProgressReporter } from '../models/hub/progress.ts';
import { pullModel } from '../models/hub/pull.ts';

interface CliOptions {
  revision: string;
  out?: string;
  modelsDir: string;
  token?: string;
  all?: boolean;
}

/** Paths inside the working directory print relative, so the suggested command stays short. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('models:pull')
    .description('Download an ONNX Stable Diffusion pipeline (diffusers layout) from the Hugging Face hub.')
    .argument('<repo>', 'hub repo id, e.g. stable-diffusion-v1-5/stable-diffusion-v1-5')
    .option('--revision <revision>', 'branch, tag or commit', 'main')
    .option('--out <dir>', 'destination folder (default: <models-dir>/<repo name>)')
    .option('--models-dir <dir>', 'parent folder for the default destination', 'models')
    .option('--token <token>', 'hub access token (default: $HF_TOKEN)')
    .option('--all', 'download every file of the repo, not only what the engine loads')
    .showHelpAfterError();
  program.parse(argv);
  const [repo] = program.processedArgs as [string];
  const options = program.opts<CliOptions>();

  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130); // second Ctrl-C: stop waiting for cleanup
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const reporter = createProgressReporter({ stream: process.stderr });
  try {
    const result = await pullModel({
      repo,
      revision: options.revision,
      dir: options.out,
      modelsDir: options.modelsDir,
      endpoint: process.env.HF_ENDPOINT || DEFAULT_ENDPOINT,
      token: options.token ?? (process.env.HF_TOKEN || undefined),
      all: options.all,
      signal: controller.signal,
      onProgress: reporter.onProgress,
    });
    reporter.stop();
    const dir = displayPath(result.dir);
    if (result.missing.length > 0) {
      process.stderr.write(`Downloaded into ${dir}, but the engine needs files the repo does not have: ${result.missing.join(', ')}\n`);
      return 1;
    }
    process.stdout.write(
      `Model ready in ${dir}\n` +
        `Use it with: npm run imagine -- --model ${shellQuote(dir)} --prompt "a photograph of an astronaut riding a horse"\n`,
    );
    return 0;
  } catch (error) {
    reporter.stop();
    // Anything else is a bug: still one line, with the stack only on request.
    const message = error instanceof PullError ? error.message : `models:pull failed: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`${message}\n`);
    if (process.env.DEBUG && !(error instanceof PullError)) console.error(error);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`models:pull failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
