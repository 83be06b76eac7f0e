// Process tables shaped like MetaMCP's, for the decide/ tests.
//
// METAMCP_ROWS is copied from the ground truth of a real capture (BusyBox 1.36.1 on Alpine, a
// MetaMCP-like container): test/fixtures/ps/busybox-1.36.1-alpine-config/ground-truth.json,
// fields pid, ppid, state, comm, threads, start_ticks_since_boot, argv. It is copied rather than
// read so these decide/ tests stay independent of the parser tests' files.
//
// What it holds:
//   PID 1           node dist/index.js (the app; never to be killed)
//   4 packages      npm exec <pkg>  ->  sh -c '<bin>' ...  ->  node /root/.npm/_npx/<hash>/node_modules/.bin/<bin>
//                   @21st-dev/magic three times, the other three twice: 9 trees of 3 processes
//   92, 93          odd command lines (UTF-8, an empty argv element, a very long line); same start tick
//   102             a process whose comm is "evil) Z 1 (tail" (breaks naive /proc/<pid>/stat parsing)
//   103             a stopped process (T)
//   119             a zombie: state Z, empty cmdline, shown by ps as "[sh]"
import type { Proc } from '../../../src/types.ts';

type Row = [pid: number, ppid: number, state: string, comm: string, threads: number, startTicks: number, argv: string[]];

export const METAMCP_ROWS: readonly Row[] = [
  [1, 0, 'S', 'node', 11, 128497, ['node', 'dist/index.js']],
  [16, 1, 'S', 'npm exec @21st-', 11, 128673, ['npm exec @21st-dev/magic@latest']],
  [27, 1, 'S', 'npm exec ruv-sw', 11, 128723, ['npm exec ruv-swarm mcp start']],
  [38, 16, 'S', 'sh', 1, 128768, ['sh', '-c', "'magic'"]],
  [39, 38, 'S', 'node', 7, 128773, ['node', '/root/.npm/_npx/590bd8cfc4710544/node_modules/.bin/magic']],
  [46, 1, 'S', 'npm exec claude', 11, 128823, ['npm exec claude-flow@alpha mcp start']],
  [57, 27, 'S', 'sh', 1, 128829, ['sh', '-c', "'ruv-swarm' mcp start"]],
  [58, 57, 'S', 'node', 7, 128834, ['node', '/root/.npm/_npx/6a9de72f63e89751/node_modules/.bin/ruv-swarm', 'mcp', 'start']],
  [65, 1, 'S', 'npm exec figma-', 11, 128924, ['npm exec figma-mcp']],
  [76, 46, 'S', 'sh', 1, 128927, ['sh', '-c', "'claude-flow' mcp start"]],
  [77, 76, 'S', 'node', 7, 128933, ['node', '/root/.npm/_npx/7cfa166e65244432/node_modules/.bin/claude-flow', 'mcp', 'start']],
  [84, 65, 'S', 'sh', 1, 129018, ['sh', '-c', "'figma-mcp'"]],
  [85, 84, 'S', 'node', 7, 129023, ['node', '/root/.npm/_npx/e3c4bcbf75e08fe0/node_modules/.bin/figma-mcp']],
  [92, 1, 'S', 'node', 5, 129024, ['node', '/app/scripts/wörker.js', '--label', 'café  ☕   naïve', '--city=東京', '', '--emoji=🚀', '--end']],
  [93, 1, 'S', 'node', 5, 129024, ['node', '--max-old-space-size=4096', '--enable-source-maps', '--require', '/app/node_modules/.pnpm/dotenv@16.4.5/node_modules/dotenv/config.js', '/root/.npm/_npx/7cfa166e65244432/node_modules/claude-flow/dist/cli/index.js', 'mcp', 'start', '--transport', 'stdio', '--config=/app/config/mcp-servers/production/claude-flow/workspaces/team-alpha/settings.with.a.deliberately.long.path.name.json', '--log-file=/var/log/metamcp/claude-flow-mcp-server-instance-0001.log', '--memory-store=/app/data/.swarm/memory/sqlite/claude-flow-memory.db', '--allowed-origins=http://localhost:12008,http://127.0.0.1:12008,http://metamcp.internal:12008', '--feature-flags=hooks,neural,swarm,memory,github,workflow,benchmark,telemetry-off']],
  [102, 1, 'S', 'evil) Z 1 (tail', 3, 129124, ['node', '/app/dist/workers/indexer.js', '--queue', 'default']],
  [103, 1, 'T', 'node', 3, 129125, ['node', '/app/dist/cron/cleanup.js']],
  [119, 1, 'Z', 'sh', 1, 129388, []],
  [133, 1, 'S', 'npm exec @21st-', 11, 137520, ['npm exec @21st-dev/magic@latest']],
  [144, 133, 'S', 'sh', 1, 137694, ['sh', '-c', "'magic'"]],
  [145, 144, 'S', 'node', 7, 137700, ['node', '/root/.npm/_npx/590bd8cfc4710544/node_modules/.bin/magic']],
  [152, 1, 'S', 'npm exec ruv-sw', 11, 148531, ['npm exec ruv-swarm mcp start']],
  [163, 152, 'S', 'sh', 1, 148640, ['sh', '-c', "'ruv-swarm' mcp start"]],
  [164, 163, 'S', 'node', 7, 148646, ['node', '/root/.npm/_npx/6a9de72f63e89751/node_modules/.bin/ruv-swarm', 'mcp', 'start']],
  [177, 1, 'S', 'npm exec claude', 11, 168520, ['npm exec claude-flow@alpha mcp start']],
  [188, 177, 'S', 'sh', 1, 168631, ['sh', '-c', "'claude-flow' mcp start"]],
  [189, 188, 'S', 'node', 7, 168636, ['node', '/root/.npm/_npx/7cfa166e65244432/node_modules/.bin/claude-flow', 'mcp', 'start']],
  [196, 1, 'S', 'npm exec figma-', 11, 218519, ['npm exec figma-mcp']],
  [207, 196, 'S', 'sh', 1, 218624, ['sh', '-c', "'figma-mcp'"]],
  [208, 207, 'S', 'node', 7, 218629, ['node', '/root/.npm/_npx/e3c4bcbf75e08fe0/node_modules/.bin/figma-mcp']],
  [215, 1, 'S', 'npm exec @21st-', 11, 308533, ['npm exec @21st-dev/magic@latest']],
  [226, 215, 'S', 'sh', 1, 308638, ['sh', '-c', "'magic'"]],
  [227, 226, 'S', 'node', 7, 308643, ['node', '/root/.npm/_npx/590bd8cfc4710544/node_modules/.bin/magic']],
];

/** The command line the way Proc.command holds it; an empty cmdline shows as "[comm]", as ps does. */
export function commandOf(argv: readonly string[], comm: string): string {
  return argv.length === 0 ? `[${comm}]` : argv.join(' ');
}

/** A fresh copy of the MetaMCP table (tests may mutate their copy freely). */
export function metamcpProcs(): Proc[] {
  return METAMCP_ROWS.map(([pid, ppid, state, comm, threads, startTicks, argv]) => ({
    pid,
    ppid,
    state,
    comm,
    threads,
    startTicks,
    command: commandOf(argv, comm),
  }));
}

/** One process with sensible defaults: a sleeping single-threaded process started at tick pid*100. */
export function proc(pid: number, ppid: number, command: string, extra: Partial<Proc> = {}): Proc {
  return { pid, ppid, command, state: 'S', threads: 1, startTicks: pid * 100, ...extra };
}

export const MAGIC = {
  npm: 'npm exec @21st-dev/magic@latest',
  sh: "sh -c 'magic'",
  node: 'node /root/.npm/_npx/590bd8cfc4710544/node_modules/.bin/magic',
} as const;

/**
 * One `npm exec` tree as npx leaves it: npm (11 threads) -> sh -c (1) -> node (7).
 * PIDs are root, root+1, root+2; start ticks `start`, +100, +105.
 */
export function magicTree(root: number, start: number, ppid = 1): Proc[] {
  return [
    proc(root, ppid, MAGIC.npm, { threads: 11, startTicks: start, comm: 'npm exec @21st-' }),
    proc(root + 1, root, MAGIC.sh, { threads: 1, startTicks: start + 100, comm: 'sh' }),
    proc(root + 2, root + 1, MAGIC.node, { threads: 7, startTicks: start + 105, comm: 'node' }),
  ];
}

export function pidsOf(procs: readonly Proc[]): number[] {
  return procs.map((p) => p.pid);
}

export function sortedPids(procs: readonly Proc[]): number[] {
  return pidsOf(procs).sort((a, b) => a - b);
}

/** What pids.current would read for this table: every thread of every process (zombies count 1). */
export function totalTasks(procs: readonly Proc[]): number {
  return procs.reduce((n, p) => n + (p.threads ?? 1), 0);
}

/** The table's PIDs in the subtree of `root` (test-side reference, written independently of tree.ts). */
export function descendantsOf(procs: readonly Proc[], root: number): number[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const p of procs) if (p.ppid === out[i] && !out.includes(p.pid)) out.push(p.pid);
  return out.sort((a, b) => a - b);
}
