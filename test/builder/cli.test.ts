import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'imagine-build-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/build-model.ts', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('build-model CLI', () => {
  it('rejects a bad option with one line on stderr and exit code 2', () => {
    for (const args of [
      ['--out', join(root, 'x'), '--timestep-dtype', 'int32'],
      ['--preset', 'tiny'],
      ['--out', join(root, 'x'), '--scheduler', 'not a class'],
    ]) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^build-model: .+\n$/);
      expect(r.stderr).not.toMatch(/\bat .+:\d+/);
    }
    expect(readdirSync(root)).toEqual([]);
  });

  it('builds the asked-for parts and reports them', () => {
    const out = join(root, 'model');
    const r = cli('--out', out, '--only', 'vae_decoder', '--float16', '--prediction-type', 'v_prediction');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^vae_decoder\s+[\d,]+ parameters/m);
    expect(readdirSync(out).sort()).toEqual(['model_index.json', 'scheduler', 'tokenizer', 'vae_decoder']);
  });
});
