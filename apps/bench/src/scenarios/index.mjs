// The scenarios run.mjs knows, by `--scenario`. Each is a plain object: its contenders, its
// sub-cases, how a contender's answer is checked (`verify`) and how it is loaded (`drive`).
import { gzip } from './gzip.mjs';
import { hello } from './hello.mjs';
import { proxy } from './proxy.mjs';
import { workers } from './workers.mjs';
import { ws } from './ws.mjs';

export const scenarios = { hello, workers, proxy, ws, gzip };
