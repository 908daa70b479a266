/**
 * A request's fields on their way to the upstream: names a handler set by hand in any case are
 * lower-cased before the hop-by-hop filter, exactly as String#toLowerCase does it — K (the Kelvin
 * sign) included, which becomes a k — so no spelling of a hop-by-hop name gets past it.
 */
import { describe, expect, it } from 'vitest';
import { requestEndToEnd } from '../src/hop.js';

describe("a request's end-to-end fields", () => {
  it('lower-cases names set by hand and drops every spelling of a hop-by-hop one', () => {
    const headers = {
      host: 'h',
      'X-Up': '1',
      'x-down': '2',
      'Keep-Alive': 'timeout=5',
      '\u212Aeep-alive': 'timeout=6',
      'TRANSFER-ENCODING': 'chunked',
      upgrade: 'websocket',
    };
    expect(requestEndToEnd(['Host', 'h'], headers)).toEqual({ host: 'h', 'x-up': '1', 'x-down': '2' });
  });
});
