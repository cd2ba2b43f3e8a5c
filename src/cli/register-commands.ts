import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadDiscordConfig } from '../bot/config.ts';
import { describeDiscordError } from '../bot/delivery/discord-errors.ts';
import { registerCommands } from '../bot/register-commands.ts';

/** `npm run commands:register`: registers /imagine, /settings and /queue (to DISCORD_GUILD_ID if set). */
async function main(): Promise<number> {
  loadDotenv({ quiet: true });
  try {
    const discord = loadDiscordConfig(process.env);
    const names = await registerCommands(discord);
    const where = discord.guildId ? `to guild ${discord.guildId}` : 'globally';
    process.stdout.write(`Registered ${names.length} commands ${where}: ${names.map((name) => `/${name}`).join(', ')}\n`);
    return 0;
  } catch (error) {
    const message =
      error instanceof ConfigError ? error.message : `Could not register commands: ${JSON.stringify(describeDiscordError(error))}`;
    process.stderr.write(`${message}\n`);
    return 1;
  }
}

process.exitCode = await main();
