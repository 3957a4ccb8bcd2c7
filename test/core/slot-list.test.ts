import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SlotList } from '../../src/core/slot-list.js';

const member = (name: string) => ({ name, slot: -1 });

describe('SlotList', () => {
  it('adds and deletes in any order: the last member takes a deleted one slot, and a member that left holds no slot', () => {
    const list = new SlotList<ReturnType<typeof member>>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(member) as [ReturnType<typeof member>, ReturnType<typeof member>, ReturnType<typeof member>, ReturnType<typeof member>];
    for (const m of [a, b, c, d]) list.add(m);
    expect([list.size, a.slot, b.slot, c.slot, d.slot]).toEqual([4, 0, 1, 2, 3]);
    expect(list.delete(b)).toBe(true);
    expect([list.toArray().map((m) => m.name), b.slot, d.slot]).toEqual([['a', 'd', 'c'], -1, 1]);
    expect(list.delete(c)).toBe(true); // the last one: nothing moves
    expect([list.toArray().map((m) => m.name), c.slot]).toEqual([['a', 'd'], -1]);
    expect([list.has(a), list.has(b), list.has(d)]).toEqual([true, false, true]);
  });

  it('refuses what it does not hold: a member deleted twice, a member of another list', () => {
    const list = new SlotList<ReturnType<typeof member>>();
    const other = new SlotList<ReturnType<typeof member>>();
    const a = member('a');
    const stranger = member('x');
    list.add(a);
    other.add(stranger);
    expect([list.delete(a), list.delete(a), list.delete(stranger), list.has(stranger)]).toEqual([true, false, false, false]);
    expect([list.size, other.size, stranger.slot]).toEqual([0, 1, 0]);
  });

  it('gives a copy to walk while members leave, and clears with every slot given back', () => {
    const list = new SlotList<ReturnType<typeof member>>();
    const members = ['a', 'b', 'c'].map(member);
    for (const m of members) list.add(m);
    const seen: string[] = [];
    for (const m of list.toArray()) {
      seen.push(m.name);
      list.delete(m);
    }
    expect([seen, list.size]).toEqual([['a', 'b', 'c'], 0]);
    for (const m of members) list.add(m);
    expect(list.clear().map((m) => m.name)).toEqual(['a', 'b', 'c']);
    expect([list.size, ...members.map((m) => m.slot)]).toEqual([0, -1, -1, -1]);
  });

  it('churned after going to the old generation, lets no request be promoted (a Set in its place promotes them all)', () => {
    const script = fileURLToPath(new URL('../fixtures/gc/churn.mjs', import.meta.url));
    const promoted = (kind: string): number => {
      const run = spawnSync(process.execPath, ['--expose-gc', '--trace-gc-nvp', script, kind, '100000'], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain('done 16');
      const churn = run.stdout.slice(run.stdout.indexOf('churn\n'));
      return [...churn.matchAll(/ gc=s .*? promoted=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
    };
    // 100,000 requests of 5 KB: 500 MB allocated. What the list's churn promotes is what was
    // young when it began (about 100 KB, once); the Set's is the requests themselves (446 MB
    // in most runs, 56 MB and more when V8 breaks the chain of tables on the way).
    expect(promoted('slots')).toBeLessThan(1_000_000);
    // Why the list exists: the same churn through a Set carries the requests it held into the old generation.
    expect(promoted('set')).toBeGreaterThan(10_000_000);
  });
});
