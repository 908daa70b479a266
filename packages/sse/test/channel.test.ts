import { EventSource } from 'undici';
import { describe, expect, it } from 'vitest';
import type { FerryServer } from '@ferry/core';
import { Channel, HISTORY_GAP_EVENT, streamEvents, type ChannelEvent, type EventStream } from '../src/index.js';
import { defer, deferred, EventSourceClient, startServer, type ReceivedEvent } from './helpers.js';
import { eventually, within } from '@ferry/test-kit/waiting';

/**
 * A server that subscribes every request to `channel`, replaying from its Last-Event-ID;
 * `?type=NAME` subscribes with a filter that passes only events of that type.
 */
async function channelServer(channel: Channel): Promise<{ server: FerryServer; url: string; streams: EventStream[] }> {
  const streams: EventStream[] = [];
  const server = await startServer({
    handler: streamEvents(
      (stream, req) => {
        const type = req.query.get('type');
        channel.subscribe(stream, {
          lastEventId: stream.lastEventId,
          ...(type ? { filter: (ev: ChannelEvent) => ev.event === type } : {}),
        });
        streams.push(stream);
      },
      { heartbeat: 0 },
    ),
  });
  return { server, url: `${server.url}/events`, streams };
}

const datas = (evs: ReceivedEvent[]) => evs.map((e) => e.data);
const ids = (evs: ReceivedEvent[]) => evs.map((e) => e.lastEventId);

describe('channels', () => {
  it('broadcast every event to every subscribed stream, in order', async () => {
    const channel = new Channel();
    const { url } = await channelServer(channel);
    const clients = Array.from({ length: 20 }, () => new EventSourceClient(url));
    await Promise.all(clients.map((c) => c.connect()));
    expect(channel.size).toBe(20);
    for (let i = 1; i <= 3; i++) channel.publish({ event: 'news', data: `item ${i}` });
    for (const c of clients) {
      const evs = await c.take(3);
      expect(evs).toEqual([
        { type: 'news', data: 'item 1', lastEventId: '1' },
        { type: 'news', data: 'item 2', lastEventId: '2' },
        { type: 'news', data: 'item 3', lastEventId: '3' },
      ]);
    }
  });

  it('apply a per-stream filter to live and replayed events alike', async () => {
    const channel = new Channel();
    const { url } = await channelServer(channel);
    channel.publish({ event: 'a', data: 'a0' });
    channel.publish({ event: 'b', data: 'b0' });
    const onlyA = new EventSourceClient(`${url}?type=a`);
    const onlyB = new EventSourceClient(`${url}?type=b`);
    const all = new EventSourceClient(url);
    await Promise.all([onlyA.connect(), onlyB.connect(), all.connect()]);
    for (const [i, type] of ['a', 'b', 'a', 'a', 'b'].entries()) channel.publish({ event: type, data: `${type}${i + 1}` });
    expect(datas(await all.take(5))).toEqual(['a1', 'b2', 'a3', 'a4', 'b5']);
    expect(datas(await onlyA.take(3))).toEqual(['a1', 'a3', 'a4']);
    expect(datas(await onlyB.take(2))).toEqual(['b2', 'b5']);
    // Replay goes through the filter too.
    const lateA = new EventSourceClient(`${url}?type=a`);
    lateA.lastEventId = '1';
    await lateA.connect();
    channel.publish({ event: 'a', data: 'a-live' });
    expect(datas(await lateA.take(4))).toEqual(['a1', 'a3', 'a4', 'a-live']);
    expect(onlyB.pending).toBe(0);
  });

  it('keep a bounded history of the latest events', () => {
    const channel = new Channel({ history: 5 });
    for (let i = 1; i <= 12; i++) channel.publish({ data: `e${i}` });
    expect(channel.history().map((e) => e.id)).toEqual(['8', '9', '10', '11', '12']);
    expect(channel.historySize).toBe(5);
    const none = new Channel({ history: 0 });
    none.publish({ data: 'x' });
    expect(none.history()).toEqual([]);
  });

  it('keep the id a publisher gives, and assign one otherwise', async () => {
    const channel = new Channel();
    expect((await channel.publish({ data: 'a' })).id).toBe('1');
    expect((await channel.publish({ data: 'b', id: 'custom' })).id).toBe('custom');
    expect(await channel.publish({ data: 'c' })).toEqual({ data: 'c', id: '2', stored: true });
  });

  for (const via of ['Last-Event-ID header', '?lastEventId= query'] as const) {
    it(`give a client reconnecting with its ${via} exactly what it missed, in order, without duplicates`, async () => {
      const channel = new Channel({ history: 100 });
      const { url } = await channelServer(channel);
      const client = new EventSourceClient(url, { idInQuery: via !== 'Last-Event-ID header' });
      await client.connect();
      for (let i = 1; i <= 3; i++) channel.publish({ data: `m${i}` });
      expect(datas(await client.take(3))).toEqual(['m1', 'm2', 'm3']);
      expect(client.lastEventId).toBe('3');

      await client.disconnect();
      await eventually(() => channel.size === 0, 1000, 'the server to notice the client left');
      // Published while the client is away.
      for (let i = 4; i <= 6; i++) channel.publish({ data: `m${i}` });

      await client.connect();
      expect(client.connections).toBe(2);
      channel.publish({ data: 'm7' });
      const got = await client.take(4);
      expect(datas(got)).toEqual(['m4', 'm5', 'm6', 'm7']);
      expect(ids(got)).toEqual(['4', '5', '6', '7']);
      expect(client.pending).toBe(0);
      // Nothing seen twice, nothing missing, across both connections.
      expect(datas(client.events)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    });
  }

  it('tell a client whose Last-Event-ID is older than the history reaches, with a ferry.history-gap event, then give what is kept', async () => {
    const channel = new Channel({ history: 3 });
    const { url } = await channelServer(channel);
    const client = new EventSourceClient(url);
    await client.connect();
    channel.publish({ data: 'g1' });
    expect((await client.next()).lastEventId).toBe('1');
    await client.disconnect();
    await eventually(() => channel.size === 0, 1000, 'the server to notice the client left');
    for (let i = 2; i <= 10; i++) channel.publish({ data: `g${i}` });

    await client.connect();
    const [gap, ...rest] = await client.take(4);
    expect(gap!.type).toBe(HISTORY_GAP_EVENT);
    expect(JSON.parse(gap!.data)).toEqual({ lastEventId: '1', oldestId: '8' });
    // The gap event carries no id: the client's last id stays until real events move it on.
    expect(gap!.lastEventId).toBe('1');
    expect(datas(rest)).toEqual(['g8', 'g9', 'g10']);
    expect(ids(rest)).toEqual(['8', '9', '10']);
    expect(client.pending).toBe(0);
  });

  it('replay nothing to a client that has seen the latest event, and nothing (no gap) to a new client', async () => {
    const channel = new Channel({ history: 3 });
    const { url } = await channelServer(channel);
    for (let i = 1; i <= 5; i++) channel.publish({ data: `x${i}` });
    const upToDate = new EventSourceClient(url);
    upToDate.lastEventId = '5';
    const fresh = new EventSourceClient(url, { headers: { 'last-event-id': '' } });
    await Promise.all([upToDate.connect(), fresh.connect()]);
    channel.publish({ data: 'x6' });
    expect(await upToDate.take(1)).toEqual([{ type: 'message', data: 'x6', lastEventId: '6' }]);
    expect(await fresh.take(1)).toEqual([{ type: 'message', data: 'x6', lastEventId: '6' }]);
  });

  it('closeAll() ends every subscribed stream', async () => {
    const channel = new Channel();
    const { streams } = await channelServer(channel).then(async (s) => {
      await Promise.all([new EventSourceClient(s.url).connect(), new EventSourceClient(s.url).connect()]);
      return s;
    });
    channel.closeAll();
    expect(await Promise.all(streams.map((s) => s.closed))).toEqual(['closed', 'closed']);
    expect(channel.size).toBe(0);
  });

  it("work with a real EventSource (undici's): it reconnects by itself with Last-Event-ID and misses nothing", async () => {
    const channel = new Channel();
    const seen: (string | undefined)[] = [];
    const streams: EventStream[] = [];
    const server = await startServer({
      handler: streamEvents(
        (stream) => {
          seen.push(stream.lastEventId);
          streams.push(stream);
          channel.subscribe(stream, { lastEventId: stream.lastEventId });
        },
        { heartbeat: 0, retry: 10 },
      ),
    });
    const es = new EventSource(`${server.url}/events`);
    defer(() => es.close());
    const got: { data: string; id: string }[] = [];
    let wake: (() => void) | undefined;
    es.addEventListener('message', (ev) => {
      got.push({ data: ev.data as string, id: ev.lastEventId });
      wake?.();
    });
    const opened = deferred();
    es.addEventListener('open', () => opened.resolve(), { once: true });
    await within(opened.promise, 2000, 'EventSource open');
    const until = async (n: number) => {
      while (got.length < n) await within(new Promise<void>((r) => (wake = r)), 2000, `${n} events`);
    };

    channel.publish({ data: 'r1' });
    channel.publish({ data: 'r2' });
    await until(2);
    // The server ends the stream; events keep coming while the client is away.
    streams[0]!.close();
    channel.publish({ data: 'r3' });
    channel.publish({ data: 'r4' });
    await eventually(() => channel.size === 1, 2000, 'the EventSource to come back');
    channel.publish({ data: 'r5' });
    await until(5);
    expect(got).toEqual([
      { data: 'r1', id: '1' },
      { data: 'r2', id: '2' },
      { data: 'r3', id: '3' },
      { data: 'r4', id: '4' },
      { data: 'r5', id: '5' },
    ]);
    expect(seen).toEqual([undefined, '2']);
  });
});
