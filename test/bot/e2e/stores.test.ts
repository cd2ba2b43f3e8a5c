import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { imagine, privateReplies, settings, useWorld } from './harness.ts';
import { BotProcess } from './cli-process.ts';

describe('stores fail closed end to end', () => {
  const scene = useWorld();

  it('refuses /imagine with a clear message when the channel settings cannot be read, and logs why', async () => {
    const w = scene.world;
    const running = await scene.startBot();
    await (await settings(w, w.moderator, 'set', { enabled: false })).waitForResponse();

    // The settings table disappears under the running bot (a damaged or tampered database).
    const other = new Database(path.join(w.storeDir, 'imagine.db'));
    other.exec('DROP TABLE kv');
    other.close();

    const refused = await imagine(w, w.alice, { prompt: 'a cat', steps: 2 });
    await refused.waitForResponse();
    const [reply, ...more] = privateReplies(refused);
    expect(more).toEqual([]);
    expect(reply).toMatch(/^I cannot read this channel's settings right now, so I am not taking jobs here\. Please try again later\. \(id `[0-9a-f]+`\)$/);
    expect(running.engine.requests).toHaveLength(0);
    expect(await running.bot.context.jobs.view()).toEqual({ running: [], queued: [] });
    const logged = running.logs.map((line) => JSON.parse(line) as { msg: string; err?: { message?: string } });
    const entry = logged.find((line) => line.msg === 'channel settings unreadable; job refused');
    expect(JSON.stringify(entry?.err)).toContain('no such table: kv');
  });

  it('npm start refuses to start over a damaged database, keeps it aside and says where', async () => {
    const w = scene.world;
    const damaged = Buffer.from('not a database '.repeat(200));
    writeFileSync(path.join(w.storeDir, 'imagine.db'), damaged);
    const bot = BotProcess.run(w);
    expect(await bot.exited).toBe(1);
    const aside = readdirSync(w.storeDir).filter((name) => name.startsWith('imagine.db.damaged-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(path.join(w.storeDir, aside[0]!))).toEqual(damaged);
    const fatal = bot.logLines().find((line) => line.level === 60);
    expect(String(fatal?.msg)).toMatch(/^could not start: .*imagine\.db is damaged .* moved to .*imagine\.db\.damaged-/);
  }, 60_000);

  it('npm start says clearly when the data folder cannot be written', async () => {
    const w = scene.world;
    const blocked = path.join(w.storeDir, 'a-file');
    writeFileSync(blocked, '');
    const bot = BotProcess.run(w, { IMAGINE_STORE_URL: path.join(blocked, 'data') });
    expect(await bot.exited).toBe(1);
    const fatal = bot.logLines().find((line) => line.level === 60);
    expect(String(fatal?.msg)).toMatch(/^could not start: the data folder .*a-file\/data is not writable \(ENOTDIR\); set IMAGINE_STORE_URL/);
    expect(bot.output).not.toContain('    at ');
  }, 60_000);
});
