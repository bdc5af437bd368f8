/**
 * Imported first by every replica process: the replica exits when the IPC channel to its parent closes
 * (the supervisor exited, was killed, or disconnected) and, as a second guard, when it is re-parented
 * (ppid polling), so no replica outlives its supervisor whatever the worker module does.
 */
const parent = process.ppid;
process.on('disconnect', () => process.exit(0));
setInterval(() => {
  if (process.ppid !== parent || !process.connected) process.exit(0);
}, 500).unref();

/** Marker export so the module is importable for its side effect with a name. */
export const PARENT_WATCH = true;
