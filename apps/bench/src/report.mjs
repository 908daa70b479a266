// Turns per-round samples into medians, spreads and ratios, and prints them as markdown.

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Per contender: median, min and max req/s, the ratio to the baseline's median, and the
 * medians of p99 latency and of server CPU time per request.
 */
export function summarize(contenders, samples, baselineId) {
  const rows = contenders.map(({ id, label }) => {
    const runs = samples.get(id) ?? [];
    const rps = runs.map((run) => run.requestsPerSec);
    const p99 = runs.map((run) => run.latencyMs.p99).filter((v) => v !== undefined);
    const cpu = runs.map((run) => run.cpuUsPerRequest).filter((v) => v !== undefined);
    return {
      id,
      label,
      samples: rps,
      median: median(rps),
      min: Math.min(...rps),
      max: Math.max(...rps),
      p99Ms: p99.length ? median(p99) : undefined,
      cpuUsPerRequest: cpu.length ? median(cpu) : undefined,
      errors: runs.filter((run) => run.errors).map((run) => run.errors),
      // Share of the server's core other work took in each run (undefined off Linux).
      lost: runs.map((run) => run.cpu?.lost),
      noisy: runs.filter((run) => run.noisy).length,
    };
  });
  const baseline = rows.find((row) => row.id === baselineId);
  for (const row of rows) row.ratio = baseline ? row.median / baseline.median : undefined;
  return rows;
}

/** A ratio of two contenders' medians, or undefined when either did not run. */
export function ratioOf(rows, id, toId) {
  const a = rows.find((row) => row.id === id);
  const b = rows.find((row) => row.id === toId);
  return a && b ? a.median / b.median : undefined;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const formatRps = (n) => int.format(n);
export const formatRatio = (r) => (r === undefined ? '—' : `${r.toFixed(2)}×`);
const formatMs = (ms) => (ms === undefined ? '—' : ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

export function markdownTable(rows, baselineLabel) {
  const lines = [
    `| contender | median req/s | spread (min–max) | × ${baselineLabel} | p99 latency | server CPU per request |`,
    '|---|--:|--:|--:|--:|--:|',
  ];
  for (const row of rows) {
    const flag = `${row.errors.length ? ' ⚠' : ''}${row.noisy ? ` (${row.noisy} noisy)` : ''}`;
    const spread = `${formatRps(row.min)}–${formatRps(row.max)}`;
    const cpu = row.cpuUsPerRequest === undefined ? '—' : `${row.cpuUsPerRequest.toFixed(1)} µs`;
    lines.push(
      `| ${row.label}${flag} | ${formatRps(row.median)} | ${spread} | ${formatRatio(row.ratio)} | ${formatMs(row.p99Ms)} | ${cpu} |`,
    );
  }
  return lines.join('\n');
}
