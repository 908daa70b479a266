// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self and total time per function,
// with frames of bundled files mapped back to their TypeScript source through the source map.
//
//   node apps/bench/src/cpuprofile.mjs FILE.cpuprofile [--top 30]
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Decodes a source map's `mappings` into, per generated line, sorted [column, sourceIndex,
 * sourceLine] entries: all that is needed to name a frame's source file and line.
 */
function decodeMappings(mappings) {
  const lines = [];
  let source = 0;
  let sourceLine = 0;
  for (const line of mappings.split(';')) {
    const entries = [];
    let column = 0;
    for (const segment of line.split(',')) {
      if (!segment) continue;
      const fields = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0];
      if (fields.length >= 4) {
        source += fields[1];
        sourceLine += fields[2]; // fields[3], the source column, is not needed
        entries.push([column, source, sourceLine]);
      }
    }
    lines.push(entries);
  }
  return lines;
}

const sourceMaps = new Map();

/** "src/route.ts:42" for a frame of a file with a source map beside it, else undefined. */
function originalPosition(url, line, column) {
  if (!url.startsWith('file://')) return undefined;
  const file = fileURLToPath(url);
  if (!sourceMaps.has(file)) {
    let map;
    try {
      if (existsSync(`${file}.map`)) {
        const raw = JSON.parse(readFileSync(`${file}.map`, 'utf8'));
        map = { sources: raw.sources, lines: decodeMappings(raw.mappings) };
      }
    } catch {
      map = undefined;
    }
    sourceMaps.set(file, map);
  }
  const map = sourceMaps.get(file);
  const entries = map?.lines[line];
  if (!entries?.length) return undefined;
  let best = entries[0];
  for (const entry of entries) if (entry[0] <= column) best = entry;
  return `${map.sources[best[1]].replace(/^(\.\.\/)+/, '')}:${best[2] + 1}`;
}

/** Who owns a frame: our code, a dependency, Node itself, or V8's pseudo-frames. */
export function ownerOf(url, ourRoots) {
  if (!url) return 'v8';
  if (url.startsWith('node:')) return 'node';
  if (url.includes('/node_modules/')) return 'deps';
  return ourRoots.some((root) => url.includes(root)) ? 'ours' : 'other';
}

/**
 * Per function (name + location): self time, total time (each sample counted once per
 * function on its stack, so recursion does not double count), and owner.
 */
export function summarizeProfile(profile, ourRoots = []) {
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const keyOf = new Map();
  const functions = new Map();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const key = `${functionName}|${url}|${lineNumber}`;
    keyOf.set(node.id, key);
    if (!functions.has(key)) {
      functions.set(key, {
        name: functionName || '(anonymous)',
        location: url ? `${url.replace(/^file:\/\//, '')}:${lineNumber + 1}` : '',
        source: originalPosition(url, lineNumber, columnNumber),
        owner: ownerOf(url, ourRoots),
        selfMs: 0,
        totalMs: 0,
      });
    }
  }

  let totalMs = 0;
  const deltas = profile.timeDeltas ?? [];
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the time before sample i; charge it to the sample it leads to.
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    totalMs += ms;
    functions.get(keyOf.get(id)).selfMs += ms;
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const key = keyOf.get(at);
      if (seen.has(key)) continue;
      seen.add(key);
      functions.get(key).totalMs += ms;
    }
  });

  const owners = {};
  for (const fn of functions.values()) owners[fn.owner] = (owners[fn.owner] ?? 0) + fn.selfMs;
  return { totalMs, functions: [...functions.values()], owners };
}

function row(fn, totalMs, field) {
  const share = ((fn[field] / totalMs) * 100).toFixed(1).padStart(5);
  const where = fn.source ?? fn.location.split('/').slice(-3).join('/');
  return `${share}%  ${fn.owner.padEnd(5)}  ${fn.name}  ${where}`;
}

/** A text report: time by owner, top self time overall, and our hottest functions. */
export function formatSummary({ totalMs, functions, owners }, top = 30) {
  const out = [];
  const idle = functions.filter((fn) => fn.name === '(idle)').reduce((sum, fn) => sum + fn.selfMs, 0);
  out.push(`sampled ${(totalMs / 1000).toFixed(1)} s, ${((idle / totalMs) * 100).toFixed(1)}% idle`);
  out.push(
    `self time by owner: ${Object.entries(owners)
      .sort((a, b) => b[1] - a[1])
      .map(([owner, ms]) => `${owner} ${((ms / totalMs) * 100).toFixed(1)}%`)
      .join(', ')}`,
  );
  out.push('', `top ${top} by self time:`);
  for (const fn of [...functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) out.push(row(fn, totalMs, 'selfMs'));
  const ours = functions.filter((fn) => fn.owner === 'ours');
  out.push('', `our functions, top ${top} by self time:`);
  for (const fn of [...ours].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) out.push(row(fn, totalMs, 'selfMs'));
  out.push('', `our functions, top ${top} by total time (self + callees):`);
  for (const fn of [...ours].sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) out.push(row(fn, totalMs, 'totalMs'));
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  if (positionals.length !== 1) {
    console.error('usage: node apps/bench/src/cpuprofile.mjs FILE.cpuprofile [--top N]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
  // Standalone, "ours" is anything outside node_modules that is not Node's own.
  console.log(formatSummary(summarizeProfile(profile, ['/']), Number(values.top)));
}
