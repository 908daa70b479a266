import { describe, expect, it } from 'vitest';
import { OneShotQueue } from '../src/one_shot_queue.js';

describe('OneShotQueue', () => {
  it('runs at most `limit` jobs at once, every job once, and settles each as its job does', async () => {
    const queue = new OneShotQueue(2);
    let running = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const job = (n: number) => () =>
      new Promise<number>((resolve, reject) => {
        running++;
        most = Math.max(most, running);
        releases.push(() => {
          running--;
          if (n === 3) reject(new Error('job 3 failed'));
          else resolve(n * 10);
        });
      });
    const results = [1, 2, 3, 4, 5].map((n) => queue.run(job(n)).catch((err: Error) => err.message));
    // Release jobs one by one as they start: the queue must keep two running while it can.
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      expect(running).toBeLessThanOrEqual(2);
      releases.shift()!();
    }
    expect(await Promise.all(results)).toEqual([10, 20, 'job 3 failed', 40, 50]);
    expect(most).toBe(2);
  });

  it('a job that throws synchronously frees its slot too', async () => {
    const queue = new OneShotQueue(1);
    await expect(
      queue.run(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(await queue.run(async () => 'next')).toBe('next');
  });
});
