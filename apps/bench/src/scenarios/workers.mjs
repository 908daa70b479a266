// workers: the hello world and config of hello, `ferry run --workers 1` against `--workers 2`
// — with node:cluster's default scheduling on Linux (round-robin: the primary accepts every
// connection and hands it to the next worker) and with `none` (the workers accept from the
// shared socket themselves). Nothing is pinned: two workers need both cores, and wrk shares them
// (the "load generator included" condition of the scaling goal), so wrk runs two threads.
import { ferryContender } from '../launchers/ferry.mjs';
import { BODY } from '../servers/common.mjs';
import { ferryConfig } from '../servers/ferry-config.mjs';
import { driveWrk } from '../wrk.mjs';
import { verifyGet } from './hello.mjs';

const ferryWorkers = (workers, sched) =>
  ferryContender({ id: `ferry-w${workers}${sched ? `-${sched}` : ''}`, config: ferryConfig, workers, sched });

export const workers = {
  id: 'workers',
  title: '13-byte "Hello, World!" over HTTP/1.1 keep-alive, ferry --workers 1 vs --workers 2 (unpinned: wrk shares the two cores)',
  summary: 'ferry --workers 1 vs --workers 2, nothing pinned',
  unit: 'req/s',
  baseline: 'ferry-w1',
  baselineLabel: 'ferry --workers 1',
  pinned: false,
  threads: 2,
  /**
   * HTTP/1.1 pipelining, 16 deep (as TechEmpower's plaintext test): wrk then spends far less CPU
   * per request than the servers do, so what a second worker adds is not eaten by the load
   * generator sharing the two cores. `--pipeline 1` measures plain keep-alive (see README).
   */
  pipeline: 16,
  cases: [{ id: 'hello', path: '/' }],
  verify: verifyGet(BODY),
  drive: driveWrk,
  contenders: [ferryWorkers(1), ferryWorkers(2), ferryWorkers(2, 'none')],
  ratios: [
    ['ferry-w2', 'ferry-w1', 'ferry --workers 2 / --workers 1'],
    ['ferry-w2-none', 'ferry-w1', 'ferry --workers 2 with NODE_CLUSTER_SCHED_POLICY=none / --workers 1'],
  ],
};
