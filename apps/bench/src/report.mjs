// Turns per-round samples into medians, spreads and ratios, and prints them as markdown.

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const medianOf = (runs, pick) => {
  const values = runs.map(pick).filter((v) => v !== undefined);
  return values.length ? median(values) : undefined;
};

/**
 * Per contender that ran: median, min and max rate, the ratio to the baseline's median, the
 * medians of p99 latency and of server CPU time per request (and the contender's own share,
 * when it fronts an upstream), and the facts its check found (the gzip scenario's encoding).
 */
export function summarize(contenders, samples, baselineId) {
  const rows = contenders
    .filter(({ id }) => samples.get(id)?.length)
    .map(({ id, label }) => {
      const runs = samples.get(id);
      const rps = runs.map((run) => run.requestsPerSec);
      return {
        id,
        label,
        samples: rps,
        median: median(rps),
        min: Math.min(...rps),
        max: Math.max(...rps),
        p99Ms: medianOf(runs, (run) => run.latencyMs.p99),
        cpuUsPerRequest: medianOf(runs, (run) => run.cpuUsPerRequest),
        ownCpuUsPerRequest: medianOf(runs, (run) => run.ownCpuUsPerRequest),
        kernelUsPerRequest: medianOf(runs, (run) => run.kernelUsPerRequest),
        ownKernelUsPerRequest: medianOf(runs, (run) => run.ownKernelUsPerRequest),
        loadGeneratorIdle: medianOf(runs, (run) => run.cpu?.wrkIdle),
        facts: factsOf(runs),
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

/** The runs' facts: a number is the median over the runs that have it, anything else the first run's. */
function factsOf(runs) {
  const first = runs[0].facts;
  if (!first) return first;
  const out = { ...first };
  for (const [key, value] of Object.entries(first)) if (typeof value === 'number') out[key] = medianOf(runs, (run) => run.facts?.[key]);
  return out;
}

/** A ratio of two contenders' medians, or undefined when either did not run. */
export function ratioOf(rows, id, toId) {
  const a = rows.find((row) => row.id === id);
  const b = rows.find((row) => row.id === toId);
  return a && b ? a.median / b.median : undefined;
}

/**
 * `id`'s rate over `toId`'s round by round — the two measured minutes apart at most, where their
 * medians may come from different phases of a machine whose speed drifts — as the median, min and
 * max of those ratios; undefined unless both have a sample in every round.
 */
export function roundRatiosOf(rows, id, toId) {
  const a = rows.find((row) => row.id === id);
  const b = rows.find((row) => row.id === toId);
  if (!a || !b || a.samples.length !== b.samples.length) return undefined;
  const ratios = a.samples.map((rate, i) => rate / b.samples[i]);
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

/**
 * The most `id` could be ahead of `toId` if `id` took no user-space time at all, or undefined
 * without the CPU figures (unpinned, or no upstream): `toId`'s CPU per request over what `id`'s
 * would be with only its kernel time left beside its upstream's. The server core is saturated
 * in a pinned run, so rates go as the inverse of CPU per request. A target above this ceiling
 * cannot be reached by any change to the contender's code, only by fewer or cheaper syscalls.
 */
export function ceilingOf(rows, id, toId) {
  const a = rows.find((row) => row.id === id);
  const b = rows.find((row) => row.id === toId);
  if (!a || !b || a.ownKernelUsPerRequest === undefined || b.cpuUsPerRequest === undefined) return undefined;
  const floor = a.cpuUsPerRequest - (a.ownCpuUsPerRequest - a.ownKernelUsPerRequest);
  return floor > 0 ? { ratio: b.cpuUsPerRequest / floor, floor, of: b.cpuUsPerRequest } : undefined;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const formatRps = (n) => int.format(n);
export const formatRatio = (r) => (r === undefined ? '—' : `${r.toFixed(2)}×`);
const formatMs = (ms) => (ms === undefined ? '—' : ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
const formatUs = (us) => (us === undefined ? '—' : `${us.toFixed(1)} µs`);
/** CPU per request, and the part of it in the kernel when known. */
const formatCpu = (us, kernelUs) => (kernelUs === undefined ? formatUs(us) : `${formatUs(us)} (${kernelUs.toFixed(1)})`);

/**
 * The table: contender, the scenario's `factColumns` (from each contender's check), the rate,
 * its spread, the ratio to the baseline, p99 latency, CPU per request (in brackets, the part of
 * it in the kernel), with `ownCpuTitle` the contender's own CPU per request without its upstream's, and with `loadGeneratorSaturates` the
 * share of the load generator's core left idle (near 0%: the client, not the server, set the pace).
 */
export function markdownTable(rows, { baselineLabel, unit = 'req/s', factColumns = [], ownCpuTitle, loadGeneratorSaturates }) {
  const per = unit === 'msg/s' ? 'message' : 'request';
  const titles = [
    'contender',
    ...factColumns.map((c) => c.title),
    `median ${unit}`,
    'spread (min–max)',
    `× ${baselineLabel}`,
    'p99 latency',
    `server CPU per ${per} (kernel)`,
    ...(ownCpuTitle ? [ownCpuTitle] : []),
    ...(loadGeneratorSaturates ? ["load generator's core idle"] : []),
  ];
  const lines = [
    `| ${titles.join(' | ')} |`,
    `|---|${titles
      .slice(1)
      .map(() => '--:')
      .join('|')}|`,
  ];
  for (const row of rows) {
    const flag = `${row.errors.length ? ' ⚠' : ''}${row.noisy ? ` (${row.noisy} noisy)` : ''}`;
    const cells = [
      `${row.label}${flag}`,
      ...factColumns.map((c) => (row.facts ? c.cell(row.facts) : '—')),
      formatRps(row.median),
      `${formatRps(row.min)}–${formatRps(row.max)}`,
      formatRatio(row.ratio),
      formatMs(row.p99Ms),
      formatCpu(row.cpuUsPerRequest, row.kernelUsPerRequest),
      ...(ownCpuTitle ? [formatCpu(row.ownCpuUsPerRequest, row.ownKernelUsPerRequest)] : []),
      ...(loadGeneratorSaturates ? [row.loadGeneratorIdle === undefined ? '—' : `${(row.loadGeneratorIdle * 100).toFixed(0)}%`] : []),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
