/**
 * One timer per heartbeat interval serves every stream (heartbeat.ts): each stream must still beat
 * on its own phase, `every` ms after it joined and after each beat, and stop when it leaves.
 */
import { describe, expect, it } from 'vitest';
import { Heartbeat } from '../src/heartbeat.js';
import { deferred } from './helpers.js';
import { eventually } from '@ferry/test-kit/waiting';

describe('shared heartbeat timer', () => {
  it('beats each stream every interval from its own start, whenever it joined', async () => {
    const beats = new Map<string, number[]>();
    const heartbeat = new Heartbeat<string>(80, (name) => beats.get(name)!.push(performance.now()));
    const joined = new Map<string, number>();
    const join = (name: string) => {
      beats.set(name, []);
      joined.set(name, performance.now());
      heartbeat.add(name);
    };
    join('a');
    // b joins half an interval after a: a timer shared by phase would beat it after ~40 ms.
    const later = deferred();
    setTimeout(() => {
      join('b');
      later.resolve();
    }, 40);
    await later.promise;
    await eventually(() => beats.get('a')!.length >= 3 && beats.get('b')!.length >= 3, 3000, 'three beats each');
    heartbeat.delete('a');
    heartbeat.delete('b');
    for (const name of ['a', 'b']) {
      const [first, ...rest] = beats.get(name)!;
      expect(first! - joined.get(name)!).toBeGreaterThanOrEqual(75);
      let previous = first!;
      for (const t of rest) {
        expect(t - previous).toBeGreaterThanOrEqual(75);
        previous = t;
      }
    }
  });

  it('stops beating a stream once deleted, while the others go on', async () => {
    const counts = { a: 0, b: 0 };
    const heartbeat = new Heartbeat<'a' | 'b'>(20, (name) => counts[name]++);
    heartbeat.add('a');
    heartbeat.add('b');
    await eventually(() => counts.a >= 1, 2000, 'a first beat');
    heartbeat.delete('a');
    const stopped = counts.a;
    await eventually(() => counts.b >= stopped + 5, 3000, 'five more beats of b');
    expect(counts.a).toBe(stopped);
    heartbeat.delete('b');
  });

  it('a stream that leaves from inside a beat, and the last one leaving, leave the timer consistent', async () => {
    let count = 0;
    const heartbeat: Heartbeat<string> = new Heartbeat<string>(10, (name) => {
      count++;
      heartbeat.delete(name);
    });
    heartbeat.add('once');
    await eventually(() => count === 1, 2000, 'one beat');
    // Joining again after the set emptied starts the timer again.
    heartbeat.add('again');
    await eventually(() => count === 2, 2000, 'a beat after rejoining');
  });
});
