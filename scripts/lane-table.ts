// Prints the rows of the README's "Tested hosts" table from the figures the lanes recorded in
// .tmp/lane-results/ (test/lanes/lane-results.ts): `bun scripts/lane-table.ts [DIR]`.
// Every figure is pidwarden's, checked against that host's kernel by the test that recorded it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const DIR = process.argv[2] ?? resolve(import.meta.dir, '..', '.tmp', 'lane-results');

/** Lane and engine -> what the README calls that host (scripts/test.sh, scripts/vm-lane.sh). */
const HOSTS: [string, string][] = [
  ['docker20-v1-docker', 'Docker 20.10, cgroup v1 (`docker20-v1`)'],
  ['podman-v1-podman', 'Podman 4.3.1 (runc, cgroupfs), cgroup v1 (`podman-v1`)'],
  ['v2-docker20-docker', 'cgroup v2, Docker 20.10, cgroupfs driver (`v2-docker20`, QEMU guest)'],
  ['v2-docker26-podman5-docker', 'cgroup v2, Docker 26.1, systemd driver (`v2-docker26-podman5`, QEMU guest)'],
  ['v2-docker26-podman5-podman', 'cgroup v2, Podman 5.4 (crun, systemd), same boot (`v2-docker26-podman5`)'],
];

interface Figures { total: number; matching: number; zombies: number; pidsCurrent: number | null; pidsMax: number | null }
type Results = Record<string, any>;

function load(name: string): { time: string; results: Results } | null {
  const f = join(DIR, name);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { time: string; results: Results }) : null;
}

const s = (ms: number | undefined) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(2)} s`);
const same = (a: Figures | undefined, b: Figures | undefined) => a !== undefined && JSON.stringify(a) === JSON.stringify(b);
const fig = (f: Figures) => `${f.total}/${f.matching}/${f.zombies}, ${f.pidsCurrent}/${f.pidsMax ?? 'max'}`;

function auditCell(r: Results): string {
  const a = r.audit;
  if (!a) return 'not run';
  const ways = [['ps', a.ps], ['host', a.host], ['tcp', r['audit-tcp']]].filter(([, v]) => v !== undefined) as [string, { kernel: Figures; pidwarden: Figures }][];
  const bad = ways.filter(([, v]) => !same(v.kernel, v.pidwarden)).map(([w]) => w);
  return `${fig(a.ps.kernel)} ${bad.length ? `differs (${bad.join(', ')})` : '= kernel'} (${ways.map(([w]) => w).join(', ')})`;
}

function row(key: string, host: string): string | null {
  const core = load(`${key}.json`);
  const lay = load(`${key}-layouts.json`);
  if (!core && !lay) return null;
  const r = core?.results ?? {};
  const l = lay?.results ?? {};
  const storm = r.storm ? `${r.storm.processesBefore} -> ${r.storm.processesAfter} (newest tree kept), twin and host decoy untouched; ${s(r.storm.cleanupMs)}` : 'not run';
  const lim = r.atlimit
    ? `${r.atlimit.pidwarden.total} procs, ${r.atlimit.pidwarden.pidsCurrent}/${r.atlimit.pidwarden.pidsMax} ${same(r.atlimit.audit, r.atlimit.pidwarden) ? '= kernel' : 'differs'} (${r.atlimit.source}); to ${r.atlimit.resultAfter?.pidsCurrent}/${r.atlimit.pidwarden.pidsMax} in ${s(r.atlimit.cleanupMs)} (${(r.atlimit.via ?? []).join(', ')})`
    : 'not run';
  const nops = r.nops ? `${r.nops.pidwarden.total} procs ${same(r.nops.audit, r.nops.pidwarden) ? '= kernel' : 'differ'} (host /proc); cleaned in ${s(r.nops.cleanupMs)}` : 'not run';
  const mon = r.monitor ? `${r.monitor.processesBefore} -> ${r.monitor.processesAfter}, healthy ${s(r.monitor.startToHealthyMs)} after start` : 'not run';
  const pod = l.pod ? `; a pod: the other member (${l.pod.appCounted} process) and the infra spared, ${l.pod.stormKilled} killed in the storm member` : '';
  const shared = l.shared ? `agents ${l.shared.agentsCounted.join(' + ')} process(es); ${l.shared.outsideSignalled} outside signalled; storm cleaned in ${s(l.shared.cleanupMs)}${pod}` : 'not run';
  const nested = l.nested ? `${l.nested.innerKilled} inner killed, ${l.nested.outerAlive} outer alive (${l.nested.outerHoldingInnerNumbers} holding inner PIDs); ${s(l.nested.cleanupMs)}` : 'not run';
  const lad = load(`${key}-ladder.json`)?.results ?? {};
  const restart = lad.restart && lad.pool && lad.hub
    ? `pool of ${lad.pool.processes}: only the helper's tree killed, the protected one kept, no restart; PID 1 \`npm exec\`: nothing signalled, no restart; PID 1 holding ${lad.restart.zombiesBefore} zombies: dry run inert, restarted, ${lad.restart.processesBefore} -> ${lad.restart.processesAfter}`
    : 'not run';
  const rp = load(`${key}-reap.json`)?.results?.reap;
  const reap = rp ? `${rp.wrappers} wrappers: ${rp.removed} orphan removed, ${rp.stopped} compose-managed only stopped, ${rp.kept} kept (live owner, \`pidwarden.reap=false\`), ${rp.joinedKept ?? 0} joined by a sidecar refused` : 'not run';
  return `| ${host} | ${auditCell(r)} | ${storm} | ${lim} | ${nops} | ${mon} | ${shared} | ${nested} | ${restart} | ${reap} |`;
}

console.log('| host kind | audit: total/matching/zombies, pids (ways read) | storm cleanup | at `--pids-limit 40` | ps-less image | monitor | `pid=host` + `pid=container:X` | nested PID namespace | restart only with evidence | reap |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const [key, host] of HOSTS) {
  const line = row(key, host);
  if (line) console.log(line);
}
const times = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => load(f)!.time).sort();
if (times.length) console.log(`\nrecorded ${times[0]} to ${times.at(-1)}`);
