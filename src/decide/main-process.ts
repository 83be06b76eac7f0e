// Pure: which processes are the container's main process. The container lives and dies with it,
// so it is never a runaway and never a victim, whatever its command line says (a container whose
// CMD is `npx -y some-mcp` runs `npm exec some-mcp` as its main process):
//   - PID 1 of the container's own PID namespace;
//   - the container's init in a shared namespace (pid=host, pid=container:X, a pod), where it is
//     not PID 1: the observation marks it (Proc.init) by its host PID, the engine's State.Pid;
//   - below an init shim (docker run --init, Podman's --init, tini, dumb-init, catatonit), the
//     shim's first child: the image's CMD. The shim forks it at once; orphans re-parented to the
//     shim later are younger, so the oldest child is the CMD and the others stay candidates;
//   - below a launcher that is a main process, its first child, the same way: a shell run with -c
//     (Docker runs a shell-form `CMD npx -y hub` as `/bin/sh -c "npx -y hub"`, and Debian's dash
//     forks the command instead of exec'ing it, so `npm exec hub` is PID 1's child; BusyBox's sh
//     execs it) and npm's script runners (`CMD ["npm", "start"]` with a start script `npx hub`:
//     npm start -> sh -c -> npm exec hub). Without this the service itself was the one runaway
//     tree, holding every session's tree below it: dedupe found no duplicates and oldest killed
//     the service.
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

/** A shell running a command string (`sh -c CMD`, any path, bash, dash, ash, zsh). */
const SHELL_C = /^(?:\S*\/)?(?:sh|bash|dash|ash|zsh) -c(?: |$)/;
/** npm's title for its script runners: `npm start`, `npm run dev`, `npm run-script dev`, `npm test`. */
const NPM_SCRIPT = /^npm (?:start|restart|test|run|run-script|rum|urn)(?: |$)/;
/** Launchers stacked on one another (npm start -> sh -c -> npm exec) are followed this deep. */
const MAX_LAUNCHERS = 4;

/** A process that runs the container's command as a child, for its first child to be the main process too. */
function isLauncher(p: Proc): boolean {
  return isInitShim(p) || SHELL_C.test(p.command) || NPM_SCRIPT.test(p.command);
}

/** PIDs (at the container's level) of the container's main process and of the init shim and launchers above it. */
export function mainProcesses(procs: readonly Proc[]): Set<number> {
  const main = new Set<number>();
  const inits = procs.filter((p) => p.pid === 1 || p.init === true);
  for (const init of inits) {
    main.add(init.pid);
    let launcher: Proc | undefined = init;
    for (let depth = 0; launcher !== undefined && depth < MAX_LAUNCHERS && isLauncher(launcher); depth++) {
      const parent: Proc = launcher;
      launcher = procs.filter((c) => c.ppid === parent.pid && c.pid !== parent.pid && !isZombie(c)).sort(olderFirst)[0];
      if (launcher === undefined || main.has(launcher.pid)) break;
      main.add(launcher.pid);
    }
  }
  return main;
}
