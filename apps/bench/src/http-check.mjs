// The harness's own HTTP client, for checking a contender's answer before it is measured: one
// request on a fresh kept-alive connection (as wrk's are), the body as bytes, and the bytes
// that came over the wire for it (status line, header and framing included).
import { Agent, request } from 'node:http';

/** `{ status, headers, rawHeaders, body: Buffer, wireBytes }` of one request to `url`. */
export async function fetchOnce(url, { method = 'GET', headers = {}, body } = {}) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    return await send(agent, url, { method, headers, body });
  } finally {
    agent.destroy();
  }
}

function send(agent, url, { method, headers, body }) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method, headers }, (res) => {
      // Kept now: a kept-alive socket is detached from the response once it ends.
      const { socket } = res;
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          rawHeaders: res.rawHeaders,
          headers: res.headers,
          body: Buffer.concat(chunks),
          // One response on a fresh socket: every byte read from it belongs to this response.
          wireBytes: socket.bytesRead,
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no response from ${url} within 5 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The problems with an answer that must be 200, kept alive, and carry exactly `expected`. */
export function bodyProblems(res, expected) {
  const problems = [];
  if (res.status !== 200) problems.push(`status ${res.status}, expected 200`);
  if (!res.body.equals(Buffer.from(expected))) problems.push(describeMismatch(res.body, Buffer.from(expected)));
  if (/\bclose\b/i.test(res.headers.connection ?? '')) problems.push('"Connection: close" (keep-alive is under test)');
  return problems;
}

function describeMismatch(got, expected) {
  if (expected.length <= 64 && got.length <= 64)
    return `body ${JSON.stringify(got.toString())}, expected ${JSON.stringify(expected.toString())}`;
  let at = 0;
  while (at < got.length && at < expected.length && got[at] === expected[at]) at++;
  return `body of ${got.length} bytes differs from the expected ${expected.length} from byte ${at}`;
}

/** The response's header lines, as sent, for the fairness check printed in round 1. */
export function headerSummary(res) {
  const names = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) names.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
  return names.join(' | ');
}

/** An error naming the contender and what it got wrong: the run refuses to report it. */
export function wrongAnswer(contenderId, what, problems) {
  return new Error(`${contenderId} answered wrongly (${what}): ${problems.join('; ')}`);
}
