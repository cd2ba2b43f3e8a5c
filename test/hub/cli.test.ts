import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEngineFile } from '../../src/models/hub/select.ts';
import { onnxRepoFiles, startFakeHub } from './fake-hub.ts';
import type { FakeHub } from './fake-hub.ts';

const REPO = 'fake-org/tiny-sd-onnx';
const files = onnxRepoFiles();
const wanted = files.filter((file) => isEngineFile(file.path));

let hub: FakeHub;
let work: string;

beforeAll(async () => {
  hub = await startFakeHub({ repos: [{ id: REPO, branches: { main: files } }] });
  work = await mkdtemp(join(tmpdir(), 'imagine-pull-cli-'));
});

afterAll(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Async spawn: the fake hub lives in this process and must keep serving while the CLI runs.
 * npm's own config warnings are silenced so stderr holds only what the CLI printed.
 */
function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; onStderr?: (text: string, kill: () => void) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: process.cwd(),
      env: { ...process.env, HF_ENDPOINT: hub.endpoint, HF_TOKEN: '', npm_config_loglevel: 'error', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr, () => child.kill('SIGINT'));
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const pullCli = (args: string[], env?: NodeJS.ProcessEnv): Promise<Run> => run('npx', ['tsx', 'src/cli/pull.ts', ...args], { env });
const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

describe('npm run models:pull (src/cli/pull.ts)', () => {
  it('pulls into <models-dir>/<repo name> and prints how to use it', async () => {
    const modelsDir = join(work, 'models');
    const { code, stdout, stderr } = await pullCli([REPO, '--models-dir', modelsDir]);
    expect(code, stderr).toBe(0);
    const dest = join(modelsDir, 'tiny-sd-onnx');
    expect(stdout).toContain(`Model ready in ${dest}`);
    expect(stdout).toContain(`npm run imagine -- --model ${dest} --prompt`);
    // Not a TTY: one plain line per file instead of a redrawn bar.
    expect(stderr).not.toContain('\u001b[');
    for (const file of wanted) expect(stderr).toContain(`${file.path} (`);
    expect((await stat(join(dest, 'unet', 'weights.pb'))).size).toBe(files.find((f) => f.path === 'unet/weights.pb')!.content.length);
  });

  it('fails with exit code 1 and one line, no stack trace, for an unknown repo', async () => {
    const { code, stdout, stderr } = await pullCli(['fake-org/missing', '--models-dir', join(work, 'models')]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(/^Repository fake-org\/missing not found on http:\/\/127\.0\.0\.1:\d+: .*HF_TOKEN/);
  });

  it('names the endpoint when it is unreachable', async () => {
    const closed = await startFakeHub({ repos: [] });
    await closed.close();
    const { code, stderr } = await pullCli([REPO, '--out', join(work, 'unreachable')], { HF_ENDPOINT: closed.endpoint });
    expect(code).toBe(1);
    expect(lines(stderr)).toEqual([`Cannot reach ${closed.endpoint} (connection refused): check your network connection or HF_ENDPOINT.`]);
  });

  it('on Ctrl-C keeps the .incomplete file and says how to resume', async () => {
    const out = join(work, 'interrupted');
    hub.faults.stall.add('unet/weights.pb');
    try {
      // node --import tsx is a single process, so SIGINT reaches the CLI itself (npx would sit between).
      let sent = false;
      const { code, stderr } = await run('node', ['--import', 'tsx', 'src/cli/pull.ts', REPO, '--out', out], {
        onStderr: (text, kill) => {
          if (!sent && text.includes('unet/model.onnx (')) {
            sent = true;
            // The stalled file is next; give it a moment to start streaming.
            setTimeout(kill, 300);
          }
        },
      });
      expect(code).toBe(1);
      expect(lines(stderr).at(-1)).toMatch(/^Interrupted: partial downloads were kept as \*\.incomplete files in .*interrupted; run the same command again to resume\.$/);
      expect(await readdir(join(out, 'unet'))).toContain('weights.pb.incomplete');
    } finally {
      hub.faults.stall.clear();
    }
  });
});
