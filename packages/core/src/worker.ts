/**
 * True in a worker process forked by `ferry run --workers N`, whose primary relays messages for
 * modules (the SSE hub uses it); false in other cluster workers (pm2 has them too).
 */
export function isFerryWorker(): boolean {
  return process.env.FERRY_WORKER !== undefined && typeof process.send === 'function';
}
