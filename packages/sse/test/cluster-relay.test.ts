import { describe, expect, it } from 'vitest';
import { ClusterRelay, formatEvent } from '../src/index.js';

/**
 * The primary's side of `--workers` without a broker, driven with the messages a worker's
 * ClusterBroker sends (the IPC channel itself is covered by test/scale/sse-workers.test.ts).
 */
function relay(options?: ConstructorParameters<typeof ClusterRelay>[0]) {
  const r = new ClusterRelay(options);
  let rid = 0;
  const ask = (m: Record<string, unknown>): unknown => {
    let answer: unknown;
    const handled = r.handle(
      { ...m, rid: ++rid },
      (reply) => (answer = reply),
      () => {},
    );
    expect(handled).toBe(true);
    return answer;
  };
  return {
    publish: (topic: string, data: string, historyBytes?: number) =>
      ask({ type: 'ferry.sse.publish', topic, ev: { data }, history: 100, ...(historyBytes !== undefined ? { historyBytes } : {}) }),
    kept: (topic: string) => {
      const { replay } = ask({ type: 'ferry.sse.since', topic, lastEventId: 'none' }) as { replay: { events: { id: string }[] } };
      return replay.events.map((e) => e.id);
    },
  };
}

const data1k = 'x'.repeat(1000);
const size = Buffer.byteLength(formatEvent({ id: '1', data: data1k }));

describe('the cluster relay (the primary of --workers) keeps a bounded history', () => {
  it("per topic, at most the bytes the publishing worker's hub keeps, dropping the oldest first", () => {
    const r = relay();
    for (let i = 0; i < 5; i++) r.publish('a', data1k, 2 * size);
    expect(r.kept('a')).toEqual(['4', '5']);
  });

  it('over all topics, at most maxHistoryBytes: the topic published to least recently loses its oldest events first', () => {
    const r = relay({ maxHistoryBytes: 3 * size });
    r.publish('a', data1k);
    r.publish('a', data1k);
    r.publish('b', data1k);
    r.publish('c', data1k);
    expect([r.kept('a'), r.kept('b'), r.kept('c')]).toEqual([['2'], ['1'], ['1']]);
    r.publish('c', data1k);
    expect([r.kept('a'), r.kept('b'), r.kept('c')]).toEqual([[], ['1'], ['1', '2']]);
  });

  it('400 publishes of 1 MiB to distinct topics keep no more than 64 MiB by default', () => {
    const r = relay();
    const big = 'y'.repeat(1024 * 1024);
    for (let i = 0; i < 400; i++) r.publish(`t${i}`, big);
    let kept = 0;
    for (let i = 0; i < 400; i++) kept += r.kept(`t${i}`).length;
    expect(kept).toBeLessThanOrEqual(64);
    expect(r.kept('t399')).toEqual(['1']);
  });
});
