import { describe, expect, it } from 'vitest';
import { arenaFromEnv, resolveArena, sessionOptions, threadsFromEnv } from '../../src/engine/providers.ts';

const SD15_WEIGHTS = 3_446_278_160;

describe('session settings', () => {
  it('keeps the ONNX Runtime arena for models under 1 GB of weights unless told otherwise', () => {
    expect(resolveArena('auto', 100 * 1024 ** 2)).toBe(true);
    expect(resolveArena('auto', SD15_WEIGHTS)).toBe(false);
    expect(resolveArena(true, SD15_WEIGHTS)).toBe(true);
    expect(resolveArena(false, 1)).toBe(false);
    expect(arenaFromEnv({})).toBe('auto');
    expect(arenaFromEnv({ IMAGINE_CPU_MEM_ARENA: 'on' })).toBe(true);
    expect(arenaFromEnv({ IMAGINE_CPU_MEM_ARENA: 'OFF' })).toBe(false);
    expect(() => arenaFromEnv({ IMAGINE_CPU_MEM_ARENA: 'sometimes' })).toThrow('IMAGINE_CPU_MEM_ARENA must be on, off or auto, got "sometimes"');
  });

  it('reads thread counts from the environment and passes every setting to ONNX Runtime', () => {
    expect(threadsFromEnv({})).toEqual({});
    expect(threadsFromEnv({ IMAGINE_INTRA_OP_THREADS: '4', IMAGINE_INTER_OP_THREADS: '0' })).toEqual({ intraOpThreads: 4, interOpThreads: 0 });
    expect(() => threadsFromEnv({ IMAGINE_INTRA_OP_THREADS: 'two' })).toThrow(
      'IMAGINE_INTRA_OP_THREADS must be a whole number from 0 (ONNX Runtime\'s choice) to 1024, got "two"',
    );
    expect(sessionOptions('cpu', { intraOpThreads: 3, interOpThreads: 1, cpuMemArena: false, memPattern: true, executionMode: 'sequential' })).toEqual({
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      enableCpuMemArena: false,
      enableMemPattern: true,
      executionMode: 'sequential',
      intraOpNumThreads: 3,
      interOpNumThreads: 1,
    });
  });

  it('lets only the denoiser keep its threads spinning between runs; parts run once per job sleep instead', () => {
    const settings = { intraOpThreads: 0, interOpThreads: 0, cpuMemArena: false, memPattern: true, executionMode: 'sequential' as const };
    expect(sessionOptions('cpu', settings, 'all', 'denoiser').extra).toBeUndefined();
    expect(sessionOptions('cpu', settings, 'all', 'one-shot').extra).toEqual({ session: { intra_op: { allow_spinning: '0' } } });
  });
});
