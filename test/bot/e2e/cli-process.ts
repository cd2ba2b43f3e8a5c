import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { World } from './harness.ts';

/** `npm start` (src/cli/bot.ts) as a real child process against the world's fake Discord and store. */
export class BotProcess {
  output = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  private constructor(world: World, env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bot.ts'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DISCORD_TOKEN: world.fake.token,
        DISCORD_APPLICATION_ID: world.fake.applicationId,
        DISCORD_API_URL: world.fake.restUrl,
        IMAGINE_MODELS_DIR: world.storeDir,
        // tiny-sd (built on first use), not the 64-px default: its 512² steps keep a running job
        // running long enough for the tests to signal the process in the middle of it.
        IMAGINE_MODEL: path.join(world.storeDir, 'tiny-sd'),
        IMAGINE_PROVIDER: 'cpu',
        // tiny-sd has no safety checker; an operator running it would vouch for it like this.
        IMAGINE_SFW_MODELS: 'tiny-sd',
        IMAGINE_STORE_URL: world.storeDir,
        IMAGINE_PREVIEW_INTERVAL_MS: '300',
        IMAGINE_SHUTDOWN_GRACE_MS: '300',
        LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Starts the bot and waits until it is ready (or throws with its output when it exits first). */
  static async start(world: World, env: Record<string, string> = {}): Promise<BotProcess> {
    const bot = new BotProcess(world, env);
    let exitCode: number | null | undefined;
    void bot.exited.then((code) => (exitCode = code));
    await world.fake.waitFor(
      () => {
        if (exitCode !== undefined) throw new Error(`the bot exited (${exitCode}) before it was ready:\n${bot.output}`);
        return bot.output.includes('"msg":"bot ready"') || undefined;
      },
      { timeoutMs: 60_000, message: `bot ready; output so far:\n${bot.output}` },
    );
    return bot;
  }

  /** Starts the bot expecting it to refuse to start; resolves with its exit code. */
  static run(world: World, env: Record<string, string> = {}): BotProcess {
    return new BotProcess(world, env);
  }

  /** JSON log lines. */
  logLines(): Array<Record<string, unknown>> {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
