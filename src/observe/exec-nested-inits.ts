// Nested PID namespaces on the exec route (a remote engine: no host /proc). A docker:dind's inner
// container, or anything run with `unshare -fp`, has an init that is PID 1 of a namespace nested in
// the container's; the kernel SIGKILLs that namespace when it dies, so it is a main process, never
// a victim (src/decide/main-process.ts). The host route reads that from the host's NSpid lines;
// here the container's own /proc says it: read in the container, NSpid starts at the container's
// level, so `NSpid: 23 1` is PID 23 here and the init of a namespace one level down. Before this,
// a cleanup over TCP deduped two inner containers whose init was `npm exec` and killed all of
// their processes (test/integration/layouts.test.ts).
import type { Engine } from '../engine/client.ts';
import { execInContainer } from '../engine/exec.ts';
import { PROGRAM_MISSING_STATUS } from '../engine/exec-status.ts';
import { parseNsPid, statusField } from './proc-stat.ts';

export interface NestedInits {
  /** PIDs (at the container's level) of processes that are PID 1 of a namespace nested inside. */
  inits: Set<number>;
  /** Status files that carried an NSpid line (0: the kernel has none, before Linux 4.1). */
  withNsPid: number;
}

/** Pure: `cat /proc/<pid>/status ...` output, one file after another, each starting at `Name:`. */
export function parseNestedInits(text: string): NestedInits {
  const out: NestedInits = { inits: new Set(), withNsPid: 0 };
  for (const block of text.split(/^(?=Name:)/m)) {
    const pid = Number(statusField(block, 'Pid'));
    const nspids = parseNsPid(block);
    if (!Number.isSafeInteger(pid) || pid <= 0 || nspids === null) continue;
    out.withNsPid++;
    if (nspids.length >= 2 && nspids.at(-1) === 1) out.inits.add(pid);
  }
  return out;
}

/**
 * Pure: the inits, or an error when no status carried NSpid (Linux before 4.1). Then a nested
 * namespace's init looks like any process: killed as a victim, its whole namespace would go with
 * it, so a table read there is not one to act on.
 */
export function nestedInitsFrom(text: string): NestedInits {
  const nested = parseNestedInits(text);
  if (nested.withNsPid === 0) throw new Error('no NSpid line in /proc/<pid>/status (Linux before 4.1): an init of a nested PID namespace looks like any process');
  return nested;
}

/**
 * One `cat` of every process's status in the container. Throws when it cannot be read: whether a
 * process is an inner namespace's init cannot be told then, and a table without that is not one to
 * act on (the caller drops it).
 */
export async function readNestedInits(engine: Engine, containerId: string, pids: readonly number[], timeoutMs: number, env: string[]): Promise<NestedInits> {
  const argv = ['cat', ...pids.map((p) => `/proc/${p}/status`)];
  const r = await execInContainer(engine.docker, containerId, argv, { timeoutMs, env });
  if (r.exitCode !== null && PROGRAM_MISSING_STATUS.has(r.exitCode)) throw new Error('no cat in the container to read /proc/<pid>/status');
  // cat goes on past a process that exited meanwhile (exit 1); nothing at all read is a failure
  if (r.stdout.trim() === '') throw new Error(`cat /proc/<pid>/status read nothing (exit ${r.exitCode ?? 'none'}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
  return nestedInitsFrom(r.stdout);
}
