import { ensureRedisServer } from '@ferry/test-kit/redis';

/** Installs Debian's redis-server once, before any test file, when the machine lacks it. */
export default function setup(): void {
  ensureRedisServer();
}
