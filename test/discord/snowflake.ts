// Snowflakes must look like Discord's (17-19 digits, timestamp in the top bits): @discordjs/rest
// only recognises major route parameters matching \d{17,19}, and discord.js derives
// createdTimestamp from the id.
const DISCORD_EPOCH = 1_420_070_400_000n;

let lastMs = 0n;
let increment = 0n;

export function snowflake(atMs: number = Date.now()): string {
  let ms = BigInt(atMs) - DISCORD_EPOCH;
  // Monotonic even when several ids are minted in the same millisecond or the clock steps back,
  // so ordering by id (message history, "before"/"after" queries) matches creation order.
  if (ms < lastMs) ms = lastMs;
  if (ms === lastMs) {
    increment = (increment + 1n) & 0xfffn;
    if (increment === 0n) ms += 1n;
  } else {
    increment = 0n;
  }
  lastMs = ms;
  return ((ms << 22n) | (1n << 17n) | (1n << 12n) | increment).toString();
}

export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

export function compareSnowflakes(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
