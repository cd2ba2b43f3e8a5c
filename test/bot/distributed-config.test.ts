import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../../src/bot/config.ts';
import { loadWorkerConfig } from '../../src/worker/config.ts';

const valid = { DISCORD_TOKEN: 'MTIz.secret.abc', DISCORD_APPLICATION_ID: '123456789012345678' };

function configError(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('distributed-mode settings', () => {
  it('IMAGINE_QUEUE_URL switches the mode on, and the stores follow the queue to Redis unless named', () => {
    expect(loadConfig(valid).queueUrl).toBeUndefined();
    const config = loadConfig({ ...valid, IMAGINE_QUEUE_URL: 'redis://queue.lan:6379' });
    expect(config).toMatchObject({ queueUrl: 'redis://queue.lan:6379', storeUrl: 'redis://queue.lan:6379' });
    expect(loadConfig({ ...valid, IMAGINE_QUEUE_URL: 'rediss://q:6380', IMAGINE_STORE_URL: 'redis://store:6379' }).storeUrl).toBe('redis://store:6379');
  });

  it('refuses a queue URL that is not Redis, and a store folder in the distributed mode', () => {
    expect(configError(() => loadConfig({ ...valid, IMAGINE_QUEUE_URL: 'http://queue.lan' }))).toMatch(/IMAGINE_QUEUE_URL must be redis:\/\/… or rediss:\/\/…/);
    expect(configError(() => loadConfig({ ...valid, IMAGINE_QUEUE_URL: 'redis://q', IMAGINE_STORE_URL: 'data' }))).toMatch(/IMAGINE_STORE_URL must be redis/);
  });

  it('logs Redis URLs without their password', () => {
    const described = describeConfig(loadConfig({ ...valid, IMAGINE_QUEUE_URL: 'redis://:hunter2@queue.lan:6379' }));
    expect(JSON.stringify(described)).not.toContain('hunter2');
    expect(described.queueUrl).toBe('redis://:redacted@queue.lan:6379');
  });

  it('a worker needs the queue URL, and reads its models, id and lock time', () => {
    expect(configError(() => loadWorkerConfig(valid))).toMatch(/IMAGINE_QUEUE_URL is required for a worker/);
    const worker = loadWorkerConfig({
      ...valid,
      IMAGINE_QUEUE_URL: 'redis://q',
      IMAGINE_MODELS: 'models/a, models/b,models/a',
      IMAGINE_WORKER_ID: 'gpu-1',
      IMAGINE_WORKER_LOCK_MS: '5000',
    });
    expect(worker).toMatchObject({ modelDirs: ['models/a', 'models/b'], workerId: 'gpu-1', lockDurationMs: 5000, heartbeatMs: 5000 });
    expect(loadWorkerConfig({ ...valid, IMAGINE_QUEUE_URL: 'redis://q' }).modelDirs).toEqual(['models/emoji-sd']);
    expect(configError(() => loadWorkerConfig({ ...valid, IMAGINE_QUEUE_URL: 'redis://q', IMAGINE_WORKER_ID: 'a b' }))).toMatch(/IMAGINE_WORKER_ID/);
    expect(configError(() => loadWorkerConfig({ ...valid, IMAGINE_QUEUE_URL: 'redis://q', IMAGINE_WORKER_LOCK_MS: '10' }))).toMatch(/IMAGINE_WORKER_LOCK_MS must be between 1000/);
  });
});
