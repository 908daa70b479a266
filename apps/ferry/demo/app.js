// The embedded default's page script, served as a static file by file_server.

const $ = (id) => document.getElementById(id);
const log = (list, text) => {
  const li = document.createElement('li');
  li.textContent = text;
  list.prepend(li);
};

// The page itself: what came over the wire, and how. A static page cannot hold these: the
// encoding is the one the server picks for this browser (a HEAD of the page), the protocol and
// address come from /whoami.
fetch(location.pathname, { method: 'HEAD', cache: 'no-store' }).then((res) => {
  const encoding = res.headers.get('content-encoding') || 'identity';
  $('encoding').textContent = encoding;
  $('encoding-badge').textContent = encoding;
});
fetch('/whoami', { cache: 'no-store' })
  .then((res) => res.json())
  .then((who) => {
    $('proto').textContent = who.proto;
    $('protocol').textContent = who.proto;
    $('remote').textContent = who.remote;
  });
addEventListener('load', () => {
  const nav = performance.getEntriesByType('navigation')[0];
  if (!nav) return;
  $('hop').textContent = nav.nextHopProtocol || 'unknown';
  $('sizes').textContent = `${nav.encodedBodySize} / ${nav.decodedBodySize} bytes`;
});

// SSE: clock and status.
const points = [];
function draw() {
  const c = $('chart');
  const g = c.getContext('2d');
  const w = c.width;
  const h = c.height;
  g.clearRect(0, 0, w, h);
  const max = Math.max(5, ...points);
  g.strokeStyle = getComputedStyle(document.body).getPropertyValue('--accent') || '#1f7a8c';
  g.lineWidth = 2;
  g.beginPath();
  points.forEach((p, i) => {
    const x = (i / 59) * w;
    const y = h - 4 - (p / max) * (h - 14);
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
  g.fillStyle = getComputedStyle(document.body).getPropertyValue('--muted') || '#888';
  g.font = '12px system-ui';
  g.fillText(`max ${max.toFixed(1)} req/s`, 6, 14);
}

let ticks = 0;
const events = new EventSource('/events');
events.addEventListener('clock', (e) => {
  ticks += 1;
  $('clock').textContent = new Date(e.data).toLocaleTimeString();
  $('ticks').textContent = `${ticks} tick${ticks === 1 ? '' : 's'} received`;
});
events.addEventListener('status', (e) => {
  const s = JSON.parse(e.data);
  points.push(s.rps);
  if (points.length > 60) points.shift();
  draw();
  $('rps').textContent = String(s.rps);
  $('sse').textContent = String(s.streams.sse);
  $('websocket').textContent = String(s.streams.websocket);
  $('duplex').textContent = String(s.streams.duplex);
  const box = $('upstreams');
  box.replaceChildren(
    ...Object.entries(s.upstreams).map(([dial, up]) => {
      const div = document.createElement('div');
      div.className = 'mono';
      const dot = document.createElement('span');
      dot.className = `dot ${up ? 'ok' : 'bad'}`;
      div.append(dot, dial + (up ? ' healthy' : ' down'));
      return div;
    }),
  );
});

// WebSocket echo through the proxy.
const wsUrl = `${(location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host}/ws`;
const ws = new WebSocket(wsUrl);
ws.addEventListener('open', () => {
  $('ws-send').disabled = false;
});
ws.addEventListener('message', (e) => {
  let hello = null;
  try {
    hello = JSON.parse(e.data);
  } catch {
    // not the greeting
  }
  if (hello && hello.hello === 'ferry') {
    const overH2 = typeof hello.via === 'string' && hello.via.startsWith('2.0');
    $('ws-transport').textContent = overH2
      ? 'connected: WebSocket over HTTP/2 (RFC 8441 extended CONNECT)'
      : 'connected: WebSocket over HTTP/1.1 Upgrade';
    $('ws-transport').dataset.transport = overH2 ? 'h2' : 'http/1.1';
    return;
  }
  log($('ws-log'), `← ${e.data}`);
});
ws.addEventListener('close', () => {
  $('ws-send').disabled = true;
  $('ws-transport').textContent += ' (closed)';
});
$('ws-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('ws-input').value;
  log($('ws-log'), `→ ${text}`);
  ws.send(text);
});

// Full-duplex echo.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const enc = new TextEncoder();
async function duplexEcho() {
  const list = $('dx-log');
  list.replaceChildren();
  const started = performance.now();
  const chunks = 8;
  const body = new ReadableStream({
    async start(c) {
      for (let i = 1; i <= chunks; i++) {
        c.enqueue(enc.encode(`chunk ${i} of ${chunks}\n`));
        await sleep(150);
      }
      c.close();
    },
  });
  let res;
  try {
    res = await fetch('/duplex', { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'text/plain' } });
    $('dx-mode').textContent = `streaming upload (${performance.getEntriesByType('navigation')[0]?.nextHopProtocol || 'h2'})`;
  } catch {
    // Browsers stream request bodies only over HTTP/2: send the whole body, the echo still streams.
    let text = '';
    for (let i = 1; i <= chunks; i++) text += `chunk ${i} of ${chunks}\n`;
    res = await fetch('/duplex', { method: 'POST', body: text, headers: { 'content-type': 'text/plain' } });
    $('dx-mode').textContent = 'whole-body upload (streaming uploads need HTTP/2); echo streamed back';
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let lines = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      lines += 1;
      log(list, `← ${buf.slice(0, nl)}  (+${Math.round(performance.now() - started)} ms)`);
      buf = buf.slice(nl + 1);
    }
  }
  $('dx-mode').dataset.done = String(lines);
  $('dx-mode').textContent += ` — ${lines} chunks echoed`;
}
$('dx-form').addEventListener('submit', (e) => {
  e.preventDefault();
  $('dx-start').disabled = true;
  duplexEcho().finally(() => {
    $('dx-start').disabled = false;
  });
});
