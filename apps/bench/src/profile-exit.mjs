// Preloaded (--import) into a server being profiled: `node --cpu-prof` writes its profile
// only on a normal exit, and Node's default SIGTERM action is not one.
process.once('SIGTERM', () => process.exit(0));
