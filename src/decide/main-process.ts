// Pure: which processes are the container's main process. The container lives and dies with it,
// so it is never a runaway and never a victim, whatever its command line says (a container whose
// CMD is `npx -y some-mcp` runs `npm exec some-mcp` as its main process):
//   - PID 1 of the container's own PID namespace;
//   - the container's init in a shared namespace (pid=host, pid=container:X, a pod), where it is
//     not PID 1: the observation marks it (Proc.init) by its host PID, the engine's State.Pid;
//   - below an init shim (docker run --init, Podman's --init, tini, dumb-init, catatonit), the
//     shim's first child: the image's CMD. The shim forks it at once; orphans re-parented to the
//     shim later are younger, so the oldest child is the CMD and the others stay candidates.
import type { Proc } from '../types.ts';
import { isZombie } from './match.ts';
import { olderFirst } from './tree.ts';

/** argv[0]'s base name (or comm) of the init shims engines and images use as PID 1. */
const INIT_SHIMS = new Set(['docker-init', 'tini', 'tini-static', 'dumb-init', 'catatonit', 'podman-init']);

export function isInitShim(p: Proc): boolean {
  const argv0 = p.command.split(' ', 1)[0] ?? '';
  const base = argv0.slice(argv0.lastIndexOf('/') + 1);
  return INIT_SHIMS.has(base) || (p.comm !== undefined && INIT_SHIMS.has(p.comm));
}

/** PIDs (at the container's level) of the container's main process and of the init shim above it. */
export function mainProcesses(procs: readonly Proc[]): Set<number> {
  const main = new Set<number>();
  const inits = procs.filter((p) => p.pid === 1 || p.init === true);
  for (const init of inits) {
    main.add(init.pid);
    if (!isInitShim(init)) continue;
    const first = procs.filter((c) => c.ppid === init.pid && c.pid !== init.pid && !isZombie(c)).sort(olderFirst)[0];
    if (first) main.add(first.pid);
  }
  return main;
}
