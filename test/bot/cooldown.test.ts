import { describe, expect, it } from 'vitest';
import { Cooldown, cooldownRefusal } from '../../src/bot/moderation/cooldown.ts';

describe('Cooldown', () => {
  it('makes each member wait the period after an accepted action, independently of others', () => {
    let now = 1_000_000;
    const cooldown = new Cooldown(10_000, () => now);
    expect(cooldown.remainingMs('bob')).toBe(0);
    cooldown.record('bob');
    now += 4_000;
    expect(cooldown.remainingMs('bob')).toBe(6_000);
    expect(cooldown.remainingMs('alice')).toBe(0);
    now += 6_000;
    expect(cooldown.remainingMs('bob')).toBe(0);
  });

  it('a period of 0 never makes anyone wait', () => {
    const cooldown = new Cooldown(0, () => 5);
    cooldown.record('bob');
    expect(cooldown.remainingMs('bob')).toBe(0);
  });

  it('says whole seconds, rounded up', () => {
    expect(cooldownRefusal(6_001)).toBe('Please wait 7 s before rerolling again.');
  });
});
