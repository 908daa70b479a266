/** One server-sent event. `data` that is not a string is sent as JSON. */
export interface SseEvent {
  data?: unknown;
  event?: string;
  id?: string;
  /** Reconnection time the client should use, in milliseconds. */
  retry?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

function field(name: string, value: string): string {
  // A field value with a line break would end the field early and inject another (WHATWG HTML §9.2.6).
  if (/[\r\n]/.test(value)) throw new TypeError(`SSE ${name} must not contain CR or LF`);
  return `${name}: ${value}\n`;
}

/** Serializes an event in the text/event-stream format: multi-line data becomes several `data:` lines. */
export function formatEvent(ev: SseEvent): string {
  let out = '';
  if (ev.event !== undefined && ev.event !== '') out += field('event', ev.event);
  if (ev.id !== undefined) {
    if (ev.id.includes('\0')) throw new TypeError('SSE id must not contain NUL');
    out += field('id', ev.id);
  }
  if (ev.retry !== undefined) {
    if (!Number.isInteger(ev.retry) || ev.retry < 0) throw new TypeError('SSE retry must be a non-negative integer');
    out += `retry: ${ev.retry}\n`;
  }
  if (ev.data !== undefined) {
    const text = typeof ev.data === 'string' ? ev.data : JSON.stringify(ev.data);
    for (const line of text.split(LINE_BREAK)) out += `data: ${line}\n`;
  }
  return `${out}\n`;
}

/** A comment line (ignored by clients; keeps idle connections and proxies awake). */
export function formatComment(text = ''): string {
  return `${text
    .split(LINE_BREAK)
    .map((l) => `:${l ? ` ${l}` : ''}`)
    .join('\n')}\n\n`;
}
