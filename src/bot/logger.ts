import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

/**
 * Paths pino censors wherever they appear. The bot token is never put into a log object on purpose;
 * this catches objects (configs, request options, headers) logged by mistake.
 */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  '*.*.token',
  'DISCORD_TOKEN',
  '*.DISCORD_TOKEN',
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
];

/** Interaction tokens sit in webhook and callback URLs; they are credentials for 15 minutes. */
export function redactUrlTokens(url: string): string {
  return url
    .replace(/(\/webhooks\/\d+\/)[^/?]+/g, '$1[redacted]')
    .replace(/(\/interactions\/\d+\/)[^/?]+/g, '$1[redacted]');
}

/**
 * pino's error serializer, minus what discord.js errors carry that must not reach logs: request URLs
 * with interaction tokens, and request bodies (which hold whole images).
 */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const serialized: Record<string, unknown> = { ...stdSerializers.err(error) };
  delete serialized.requestBody;
  if (typeof serialized.url === 'string') serialized.url = redactUrlTokens(serialized.url);
  if (typeof serialized.message === 'string') serialized.message = redactUrlTokens(serialized.message);
  if (typeof serialized.stack === 'string') serialized.stack = redactUrlTokens(serialized.stack);
  return serialized;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Human-readable output; defaults to whether stdout is a terminal. */
  pretty?: boolean;
  /** Where lines go (tests); defaults to stdout. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError },
    base: { app: 'imagine' },
  };
  if (options.destination) return pino(base, options.destination);
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  if (!pretty) return pino(base);
  return pino({
    ...base,
    transport: {
      target: 'pino-pretty',
      options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app' },
    },
  });
}
