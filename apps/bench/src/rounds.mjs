// The rounds of one sub-case: every contender measured once per round, in an order rotated each
// round, each measurement repeated while the machine was too busy for it to count. A contender
// that answers wrongly (or does not start) is refused: it is measured no more, and said why.
import { waitForQuiet } from './cpu.mjs';
import { measure } from './measure.mjs';
import { formatRps } from './report.mjs';

/** Below this share of idle time on its core, the load generator may have been the bottleneck. */
export const WRK_MIN_IDLE = 0.03;

export const pct = (x) => `${(x * 100).toFixed(0)}%`;

/** Round r runs the contenders rotated by r: A,B,C,D then B,C,D,A, and so on. */
function rotate(list, by) {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

function describeRun(result, unit) {
  const notes = [];
  if (result.cpu?.wrkIdle !== undefined) {
    notes.push(`server core lost ${pct(result.cpu.lost)}`);
    // A load generator with no idle time left may itself be the bottleneck, which would hide differences.
    if (result.cpu.wrkIdle < WRK_MIN_IDLE) notes.push(`load generator's core idle only ${pct(result.cpu.wrkIdle)}`);
  } else if (result.cpu) {
    // Unpinned: the whole machine's time, split between the server (workers included) and wrk.
    const s = (x) => `${x.toFixed(1)}s`;
    notes.push(
      `server ${s(result.cpu.serverSeconds)} cpu, wrk ${s(result.cpu.wrkSeconds)}, idle ${pct(result.cpu.idle)}, lost ${pct(result.cpu.lost)}`,
    );
  }
  if (result.errors) notes.push(`⚠ ${result.errors}`);
  return `${formatRps(result.requestsPerSec).padStart(9)} ${unit}${notes.length ? `  (${notes.join(', ')})` : ''}`;
}

/**
 * Measures once the machine is quiet, and again while other work took more than `maxLost` of
 * the server's core (or the load generator ran out of headroom): on a shared machine a burst
 * elsewhere would otherwise be recorded as one contender's slowness. The criterion is
 * independent of the result, so this does not cherry-pick. The last attempt is kept either way, marked `noisy`.
 */
async function measureQuietly(contender, options) {
  for (let attempt = 0; ; attempt++) {
    await waitForQuiet(options.quietCores, {
      maxWaitMs: options.quietWait * 1000,
      onWait: (busy) =>
        console.log(`  ${options.label}  machine busy (${pct(busy)} of a core): waiting up to ${options.quietWait}s for quiet…`),
    });
    const result = await measure(contender, options);
    // (Unpinned runs have no wrkIdle: every core is shared, so only `lost` applies. Where the
    // load generator saturates by design, a repeat would not change that: the table shows it.)
    const loadBound = !options.scenario.loadGeneratorSaturates && result.cpu?.wrkIdle < WRK_MIN_IDLE;
    if (!result.cpu || (result.cpu.lost <= options.maxLost && !loadBound)) return result;
    if (attempt >= options.retries) {
      result.noisy = true;
      return result;
    }
    console.log(`  ${options.label}  ${describeRun(result, options.scenario.unit)}: discarded, retrying`);
  }
}

/**
 * Runs `rounds` rounds of `kase` over `contenders`. Returns `{ samples, refused }`: each
 * contender's results, and why each refused one was refused.
 */
export async function runCase(kase, contenders, { rounds, ...options }) {
  const samples = new Map(contenders.map((c) => [c.id, []]));
  const refused = new Map();
  const verified = new Set();
  const width = Math.max(...contenders.map((c) => c.id.length));
  for (let round = 0; round < rounds; round++) {
    console.log(`round ${round + 1}/${rounds}`);
    for (const contender of rotate(contenders, round)) {
      if (refused.has(contender.id)) continue;
      const label = contender.id.padEnd(width);
      // Once per contender: what it actually sends, so header-size differences are visible.
      const onVerified = ({ summary }) => {
        if (!verified.has(contender.id)) console.log(`  ${label}  verified: ${summary}`);
        verified.add(contender.id);
      };
      try {
        const result = await measureQuietly(contender, { ...options, kase, label, onVerified });
        samples.get(contender.id).push(result);
        console.log(`  ${label}  ${describeRun(result, options.scenario.unit)}`);
      } catch (error) {
        refused.set(contender.id, error.message);
        console.log(`  ${label}  REFUSED: ${error.message}`);
      }
    }
  }
  return { samples, refused };
}
