// pidwarden in a container with its own cgroup namespace (Docker's default on cgroup v2 hosts,
// `--cgroupns private`) sees every other container's cgroup as a path above its own root:
// /proc/<pid>/cgroup shows "0::/../../system.slice/docker-<id>.scope" style paths, which name no
// directory under its cgroup mount, so no container's pids files are found. Said plainly, with the
// fix, instead of a silent "not found" (fixture: test/fixtures/cgroup/private-namespace/).
import { readFileSync } from 'node:fs';
import { parseProcCgroup } from './cgroup-parse.ts';

export const PRIVATE_CGROUPNS_HINT =
  "this pidwarden runs in a private cgroup namespace (the container's cgroup paths start with /..), " +
  'so the cgroup fs cannot be read; run it with `--cgroupns host` (docker run) or `cgroup: host` (compose)';

/** Whether /proc/<pid>/cgroup text shows the process outside our cgroup namespace's root. */
export function outsideCgroupNamespace(procCgroupText: string): boolean {
  const { v1, v2 } = parseProcCgroup(procCgroupText);
  const paths = [...v1.values(), ...(v2 === null ? [] : [v2])];
  return paths.some((p) => p === '/..' || p.startsWith('/../'));
}

/** The problem to report when a container's pids cgroup was not found. */
/** The fix to say when pidwarden itself runs in a private cgroup namespace; null otherwise. */
export function privateCgroupNamespaceHint(procRoot: string, initPid: number): string | null {
  try {
    if (outsideCgroupNamespace(readFileSync(`${procRoot}/${initPid}/cgroup`, 'utf8'))) return PRIVATE_CGROUPNS_HINT;
  } catch {
    // unreadable: no hint
  }
  return null;
}
