// Pure: which processes are the container's main process. The container lives and dies with it,
// so it is never a runaway and never a victim, whatever its command line says (a container whose
// CMD is `npx -y some-mcp` runs `npm exec some-mcp` as its main process):
//   - PID 1 of the container's own PID namespace;
//   - the container's init in a shared namespace (pid=host, pid=container:X, a pod), where it is
//     not PID 1: the observation marks it (Proc.init) by its host PID, the engine's State.Pid;
//   - PID 1 of a PID namespace nested inside the container's (the inner containers of a
//     docker:dind, sysbox, `unshare -fp`): the main process of a container or sandbox of its own,
//     whose namespace the kernel ends when it dies. An inner container whose CMD is
//     `npx -y some-mcp` has `npm exec some-mcp` there; two of them are no duplicates to dedupe;
//   - below an init shim (docker run --init, Podman's --init, tini, dumb-init, catatonit), the
//     shim's first child: the image's CMD. The shim forks it at once; orphans re-parented to the
//     shim later are younger, so the oldest child is the CMD and the others stay candidates;
//   - below a launcher that is a main process, its first child, the same way: a shell run with -c
//     (Docker runs a shell-form `CMD npx -y hub` as `/bin/sh -c "npx -y hub"`, and Debian's dash
//     forks the command instead of exec'ing it, so `npm exec hub` is PID 1's child; BusyBox's sh
//     execs it), with options before it (`bash -o pipefail -c`, `bash -lc`, `sh -ec`), a shell
//     running a script (an ENTRYPOINT script whose last line lacks `exec`), and the script
//     runners of npm, pnpm, yarn and `node --run` (`CMD ["npm", "start"]` with a start script
//     `npx hub`: npm start -> sh -c -> npm exec hub). Without this the service itself was the one runaway
//     tree, holding every session's tree below it: dedupe found no duplicates and oldest killed
//     the service.
import type { Proc } from '../types.ts';
import { isZombie } from './match.ts';
import { olderFirst } from './tree.ts';

/** argv[0]'s base name (or comm) of the init shims engines and images use as PID 1. */
const INIT_SHIMS = new Set(['docker-init', 'tini', 'tini-static', 'dumb-init', 'catatonit', 'podman-init']);

/**
 * The same shims under the names of their release assets, which Dockerfiles often keep
 * (`ADD https://github.com/krallin/tini/releases/download/v0.19.0/tini-static-amd64 /tini-static-amd64`):
 * tini-amd64, tini-arm64, tini-static-amd64, tini-muslc-amd64 (https://github.com/krallin/tini/releases),
 * dumb-init_1.2.5_x86_64 (https://github.com/Yelp/dumb-init/releases). Also as comm, cut at 15
 * bytes (`tini-static-amd`, `dumb-init_1.2.5`).
 */
const INIT_SHIM_ASSET = /^(?:tini(?:-[a-z0-9]+)+|dumb-init_[\w.]+)$/;

const isShimName = (name: string) => INIT_SHIMS.has(name) || INIT_SHIM_ASSET.test(name);

export function isInitShim(p: Proc): boolean {
  const argv0 = p.command.split(' ', 1)[0] ?? '';
  const base = argv0.slice(argv0.lastIndexOf('/') + 1);
  return isShimName(base) || (p.comm !== undefined && isShimName(p.comm));
}

/** A shell, any path: sh, bash, dash, ash, zsh. */
const SHELL = /^(?:\S*\/)?(?:sh|bash|dash|ash|zsh)$/;
/** Shell options that take the next word as their argument (`-o pipefail`, bash's `-O extglob`). */
const OPTION_WITH_ARGUMENT = new Set(['-o', '+o', '-O', '+O']);

/**
 * A shell that runs a command string or a script file, forking what it runs: `sh -c CMD`, also
 * with options before or around -c (`bash -o pipefail -c CMD` from Docker's SHELL as hadolint
 * asks for it, compose's `bash -lc CMD`, `sh -ec CMD`), and `sh /docker-entrypoint.sh` (an
 * ENTRYPOINT script with a shebang: a shell forks every command of a script, so one whose last
 * line runs `npx -y hub` without `exec` has the hub as its child). Not an interactive shell (no
 * operand, or -i) nor one reading its commands from stdin (-s): what runs below those is typed,
 * not the container's command.
 */
function isShellLauncher(command: string): boolean {
  const words = command.split(' ');
  if (!SHELL.test(words[0] ?? '')) return false;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === '') continue; // an empty argument, or a run of spaces inside one
    if (OPTION_WITH_ARGUMENT.has(w)) {
      i++;
      continue;
    }
    if (w === '--') return i + 1 < words.length; // the script follows
    if (/^--[a-z-]+$/.test(w)) continue; // bash's --login, --norc, --noprofile
    if (/^[-+][A-Za-z]+$/.test(w)) {
      if (w.startsWith('-') && w.includes('c')) return true;
      if (/[is]/.test(w)) return false;
      continue;
    }
    return true; // the first operand: a script file
  }
  return false;
}
/** npm's title for its script runners: `npm start`, `npm run dev`, `npm run-script dev`, `npm test`. */
const NPM_SCRIPT = /^npm (?:start|restart|test|run|run-script|rum|urn)(?: |$)/;
/**
 * The other package managers and Node itself running a package.json script, which they run with
 * `sh -c` as a child (pnpm 9.15.9, yarn 1.22.22 and Node 22.23.5, looked at in /proc): they keep
 * node's argv, so PID 1 of `CMD ["pnpm", "start"]` is `node /usr/local/bin/pnpm start` (the bin
 * link's `#!/usr/bin/env node`), of `CMD ["yarn", "start"]` `node /usr/local/bin/yarn start`, and
 * of `CMD ["node", "--run", "start"]` `node --run start`. pnpm's standalone build is `pnpm start`.
 * Any subcommand: `yarn dev` and `pnpm dev` run scripts too, and taking one more process for the
 * main process only ever spares it.
 */
const SCRIPT_RUNNER = /^(?:(?:\S*\/)?node(?:js)? (?:\S*\/)?(?:pnpm|pnpm\.cjs|yarn|yarn\.js|yarnpkg)|(?:\S*\/)?node(?:js)? --run|(?:\S*\/)?pnpm)(?: |=|$)/;
/** Launchers stacked on one another (npm start -> sh -c -> npm exec) are followed this deep. */
const MAX_LAUNCHERS = 4;

/** A process that runs the container's command as a child, for its first child to be the main process too. */
function isLauncher(p: Proc): boolean {
  return isInitShim(p) || isShellLauncher(p.command) || NPM_SCRIPT.test(p.command) || SCRIPT_RUNNER.test(p.command);
}

/**
 * PIDs (at the container's level) of the container's main process and of the init shim and launchers above it.
 * `nested`: also those of the namespaces nested inside (true for who is never a victim; false for
 * whose zombies a restart of this container is the remedy: src/decide/evidence.ts).
 */
export function mainProcesses(procs: readonly Proc[], nested = true): Set<number> {
  const main = new Set<number>();
  const inits = procs.filter((p) => p.pid === 1 || p.init === true || (nested && p.nestedInit === true));
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
