import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, loadDiscordConfig } from '../../src/bot/config.ts';
import { DiscordAPIError } from 'discord.js';
import { createLogger } from '../../src/bot/logger.ts';

const TOKEN = 'MTIzNDU2Nzg5MDEy.secret-token-value.abcdef';
const valid = { DISCORD_TOKEN: TOKEN, DISCORD_APPLICATION_ID: '123456789012345678' };

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills in the documented defaults', () => {
    const config = loadConfig(valid);
    expect(config).toMatchObject({
      discord: { token: TOKEN, applicationId: '123456789012345678', apiUrl: 'https://discord.com/api', guildId: undefined },
      modelDir: 'models/emoji-sd',
      provider: 'auto',
      concurrency: 1,
      previewIntervalMs: 1500,
      maxQueuedPerUser: 2,
      storeUrl: 'data',
      logLevel: 'info',
      uploadLimitBytes: 10 * 1024 * 1024,
    });
  });

  it('vouches for emoji-sd alone unless IMAGINE_SFW_MODELS says otherwise', () => {
    expect(loadConfig(valid).sfwModels).toEqual(['emoji-sd']);
    expect(loadConfig({ ...valid, IMAGINE_SFW_MODELS: 'emoji-sd, my-sfw ,' }).sfwModels).toEqual(['emoji-sd', 'my-sfw']);
    expect(loadConfig({ ...valid, IMAGINE_SFW_MODELS: 'none' }).sfwModels).toEqual([]);
  });

  it('DMs are off and rerolls wait 10 s unless IMAGINE_ALLOW_DMS / IMAGINE_REROLL_COOLDOWN_S say otherwise', () => {
    expect(loadConfig(valid)).toMatchObject({ allowDms: false, rerollCooldownMs: 10_000 });
    expect(loadConfig({ ...valid, IMAGINE_ALLOW_DMS: 'true', IMAGINE_REROLL_COOLDOWN_S: '0' })).toMatchObject({ allowDms: true, rerollCooldownMs: 0 });
    expect(loadConfig({ ...valid, IMAGINE_ALLOW_DMS: 'no' }).allowDms).toBe(false);
    expect(configError({ ...valid, IMAGINE_ALLOW_DMS: 'sometimes' })).toContain('IMAGINE_ALLOW_DMS must be true or false');
    expect(configError({ ...valid, IMAGINE_REROLL_COOLDOWN_S: '-1' })).toContain('IMAGINE_REROLL_COOLDOWN_S must be a whole number');
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ...valid,
      DISCORD_API_URL: 'http://127.0.0.1:4000/api/',
      DISCORD_GUILD_ID: '42',
      IMAGINE_MODEL: 'models/other',
      IMAGINE_PROVIDER: 'cuda',
      IMAGINE_CONCURRENCY: '2',
      IMAGINE_PREVIEW_INTERVAL_MS: '500',
      IMAGINE_MAX_QUEUED_PER_USER: '5',
      IMAGINE_STORE_URL: 'redis://localhost:6379',
      LOG_LEVEL: 'debug',
    });
    expect(config.discord.apiUrl).toBe('http://127.0.0.1:4000/api');
    expect(config).toMatchObject({ provider: 'cuda', concurrency: 2, previewIntervalMs: 500, maxQueuedPerUser: 5, logLevel: 'debug' });
    expect(config.storeUrl).toBe('redis://localhost:6379');
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ ...valid, IMAGINE_CONCURRENCY: '', DISCORD_GUILD_ID: ' ' }).concurrency).toBe(1);
  });

  it.each([
    [{ DISCORD_APPLICATION_ID: '1' }, /^Configuration error: DISCORD_TOKEN is required/],
    [{ DISCORD_TOKEN: 'abc' }, /DISCORD_APPLICATION_ID is required/],
    [{ ...valid, DISCORD_APPLICATION_ID: 'my-bot' }, /DISCORD_APPLICATION_ID must be a Discord id/],
    [{ ...valid, DISCORD_TOKEN: 'two words' }, /DISCORD_TOKEN must not contain spaces/],
    [{ ...valid, DISCORD_API_URL: 'discord.com' }, /DISCORD_API_URL must be an http\(s\) URL/],
    [{ ...valid, DISCORD_GUILD_ID: 'guild' }, /DISCORD_GUILD_ID must be a Discord id/],
    [{ ...valid, IMAGINE_PROVIDER: 'tpu' }, /IMAGINE_PROVIDER must be one of auto, cpu, cuda, webgpu/],
    [{ ...valid, IMAGINE_CONCURRENCY: 'two' }, /IMAGINE_CONCURRENCY must be a whole number/],
    [{ ...valid, IMAGINE_CONCURRENCY: '0' }, /IMAGINE_CONCURRENCY must be between 1 and 16/],
    [{ ...valid, IMAGINE_PREVIEW_INTERVAL_MS: '1.5' }, /IMAGINE_PREVIEW_INTERVAL_MS must be a whole number/],
    [{ ...valid, IMAGINE_MAX_QUEUED_PER_USER: '-1' }, /IMAGINE_MAX_QUEUED_PER_USER must be a whole number/],
    [{ ...valid, IMAGINE_STORE_URL: 'mongodb://x' }, /IMAGINE_STORE_URL must be redis:\/\//],
    [{ ...valid, LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of fatal, error/],
  ])('refuses %j with one line naming the variable', (env, expected) => {
    const message = configError(env as Record<string, string>);
    expect(message).toMatch(expected);
    expect(message).not.toContain('\n');
  });

  it('never echoes the token, even when it is the bad value', () => {
    const message = configError({ ...valid, DISCORD_TOKEN: `${TOKEN} trailing` });
    expect(message).not.toContain('secret-token-value');
  });

  it('reads just the Discord part for command registration', () => {
    expect(loadDiscordConfig({ ...valid, IMAGINE_CONCURRENCY: 'ignored' }).applicationId).toBe('123456789012345678');
  });
});

describe('token redaction', () => {
  function capture(): { lines: string[]; stream: Writable } {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    return { lines, stream };
  }

  it('describeConfig leaves the token out', () => {
    expect(JSON.stringify(describeConfig(loadConfig(valid)))).not.toContain(TOKEN);
  });

  it('the logger censors token fields logged by mistake', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info', destination: stream });
    const config = loadConfig(valid);
    logger.info({ config }, 'config');
    logger.info({ token: TOKEN, request: { headers: { authorization: `Bot ${TOKEN}` } } }, 'oops');
    logger.child({ jobId: 'abc' }).info({ discord: config.discord }, 'child');
    const output = lines.join('');
    expect(output).not.toContain('secret-token-value');
    expect(output).toContain('[redacted]');
    expect(output).toContain('"jobId":"abc"');
  });

  it('logged Discord errors lose their interaction tokens and request bodies', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info', destination: stream });
    const url = 'http://127.0.0.1/api/v10/webhooks/123/aW50ZXJhY3Rpb24:secret-interaction-token/messages/@original';
    const error = new DiscordAPIError({ code: 50027, message: 'Invalid Webhook Token' }, 50027, 401, 'PATCH', url, {
      body: { content: 'x' },
      files: [{ name: 'a.png', data: Buffer.from('image bytes') }],
    });
    logger.error({ err: error }, 'edit failed');
    const output = lines.join('');
    expect(output).toContain('Invalid Webhook Token');
    expect(output).toContain('/webhooks/123/[redacted]/messages/@original');
    expect(output).not.toContain('secret-interaction-token');
    expect(output).not.toContain('requestBody');
  });
});
