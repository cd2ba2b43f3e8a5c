import { InvalidArgumentError } from 'commander';
import { EngineError } from '../engine/types.ts';

/** Commander argument parsers that reject malformed numbers with a message naming the option. */
export function integerOption(name: string): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be a whole number, got "${value}"`);
    return Number(value);
  };
}

export function numberOption(name: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed)) throw new InvalidArgumentError(`${name} must be a number, got "${value}"`);
    return parsed;
  };
}

export function choiceOption<T extends string>(name: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')}, got "${value}"`);
    return value as T;
  };
}

/**
 * Ends a CLI run on an error: one line on stderr, no stack trace (unless IMAGINE_DEBUG is set),
 * and a non-zero exit code.
 */
export function exitWithError(program: string, error: unknown): never {
  const message = error instanceof EngineError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`${program}: ${message.split('\n')[0]}\n`);
  if (process.env.IMAGINE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
  process.exit(1);
}
