import { describe, expect, it } from 'vitest';
import { EnginePool } from '../../src/engine/engine-pool.ts';
import type { Engine, EngineInfo, GenerateRequest, GenerateResult } from '../../src/engine/types.ts';

/** An engine whose jobs finish when the test says so, recording how many run at once. */
class ManualEngine implements Engine {
  static running = 0;
  static peak = 0;
  readonly info = { model: { name: 'manual' } } as EngineInfo;
  readonly pending: { request: GenerateRequest; finish: () => void }[] = [];
  closed = false;
  generate(request: GenerateRequest): Promise<GenerateResult> {
    ManualEngine.running++;
    ManualEngine.peak = Math.max(ManualEngine.peak, ManualEngine.running);
    return new Promise((resolve) => {
      this.pending.push({
        request,
        finish: () => {
          ManualEngine.running--;
          resolve({ request } as unknown as GenerateResult);
        },
      });
    });
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('EnginePool', () => {
  it('runs as many jobs at once as it has engines, and hands a freed engine to the next job', async () => {
    const engines = [new ManualEngine(), new ManualEngine()];
    const pool = new EnginePool(engines);
    const jobs = ['a', 'b', 'c'].map((prompt) => pool.generate({ prompt }));
    await tick();
    expect(engines.map((e) => e.pending.length)).toEqual([1, 1]);
    expect(ManualEngine.running).toBe(2);
    const firstEngine = engines.find((e) => e.pending[0]?.request.prompt === 'a')!;
    firstEngine.pending[0]!.finish();
    await tick();
    expect(firstEngine.pending.map((p) => p.request.prompt)).toEqual(['a', 'c']);
    for (const engine of engines) for (const p of engine.pending.slice(-1)) p.finish();
    expect((await Promise.all(jobs)).map((r) => r.request.prompt)).toEqual(['a', 'b', 'c']);
    expect(ManualEngine.peak).toBe(2);
    await pool.close();
    expect(engines.every((e) => e.closed)).toBe(true);
    await expect(pool.generate({ prompt: 'late' })).rejects.toThrow(/closed/);
  });
});
