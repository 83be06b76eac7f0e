/**
 * The runaway rule stated again on the kernel's process list, written independently of
 * src/decide/runaway.ts so that integration tests compare pidwarden with a second reading of the
 * README's rule, not with itself: a live process other than PID 1 whose command line (argv joined
 * by spaces) matches --match or runs from npm's npx cache (`/_npx/`) is runaway; the roots are the
 * runaway processes with no runaway ancestor; an npx-cache process below a PID 1 that is itself a
 * wrapper is that PID 1's own server, not a root.
 */
import type { HostProc } from './harness.ts';

export const NPX_CACHE = /\/_npx\//;
const commandOf = (p: HostProc) => p.argv.join(' ');

/** Roots that run from the npx cache, match no --match pattern and have no `npm ...` process above them. */
export function orphanRoots(procs: HostProc[], roots: HostProc[], match: RegExp[]): HostProc[] {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  return roots.filter((p) => {
    if (match.some((re) => re.test(commandOf(p)))) return false;
    for (let q = byPid.get(p.ppid), n = 0; q && q.pid !== 1 && n < 4096; q = byPid.get(q.ppid), n++) {
      if (commandOf(q).startsWith('npm ')) return false;
    }
    return true;
  });
}

export function runawayRoots(procs: HostProc[], match: RegExp[], npxOrphans = true): HostProc[] {
  const looks = (p: HostProc) => match.some((re) => re.test(commandOf(p))) || (npxOrphans && NPX_CACHE.test(commandOf(p)));
  const runaway = (p: HostProc) => p.pid !== 1 && p.state !== 'Z' && looks(p);
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const pid1 = byPid.get(1);
  const pid1IsWrapper = pid1 !== undefined && looks(pid1);
  return procs.filter((p) => {
    if (!runaway(p)) return false;
    for (let q = byPid.get(p.ppid), n = 0; q && n < 4096; q = byPid.get(q.ppid), n++) {
      if (runaway(q)) return false;
      if (q.pid === q.ppid) break;
    }
    const orphan = !match.some((re) => re.test(commandOf(p)));
    return !(orphan && pid1IsWrapper);
  });
}
