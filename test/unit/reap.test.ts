// The reap decision (src/decide/reap.ts), one row per situation: which containers go, by which
// rule, in which order, and what keeps a container. Pure: times and owner processes are given.
import { describe, expect, test } from 'bun:test';
import { builtInExemption, decideReap, isPodInfraImage, ownerPidOf, parseStartLabel, OWNER_START_MARGIN_MS, type OwnerProcess, type ReapRules, type ReapSubject } from '../../src/decide/reap.ts';
import type { UsageSample } from '../../src/decide/idle.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

let seq = 0;
type Spec = Partial<Omit<ReapSubject, 'owners'>> & { owners?: [number, OwnerProcess | null][] };
function subject(o: Spec = {}): ReapSubject {
  seq++;
  const hex = seq.toString(16).padStart(2, '0');
  return {
    id: hex.repeat(32),
    name: `c${seq}`,
    image: 'busybox',
    labels: {},
    createdMs: NOW - 10 * M,
    startedAtMs: NOW - 10 * M,
    // its init forked 0.5 s after Created (test/fixtures/layout/init-start.json: 0.5 s before StartedAt)
    initStartMs: NOW - 10 * M + 500,
    hostProcVisible: true,
    usage: null,
    ...o,
    owners: new Map(o.owners ?? []),
  };
}

const RULES: ReapRules = { ownerLabels: [{ key: 'mcpmon.pid' }], orphanUnlabelled: false, idleCpuPercent: 0.5, localEngine: true };
const alive = (startMs = NOW - H): OwnerProcess => ({ startMs, zombie: false });

describe('orphan rule', () => {
  const rows: [string, Spec, Partial<ReapRules>, string | null][] = [
    ['owner PID gone', { labels: { 'mcpmon.pid': '4242' }, owners: [[4242, null]] }, {}, 'orphan'],
    ['owner alive, started before the container', { labels: { 'mcpmon.pid': '4242' }, owners: [[4242, alive()]] }, {}, null],
    ['owner is a zombie', { labels: { 'mcpmon.pid': '4242' }, owners: [[4242, { startMs: NOW - H, zombie: true }]] }, {}, 'orphan'],
    ['PID reused: the process started after the container', { labels: { 'mcpmon.pid': '4242' }, owners: [[4242, alive(NOW - M)]] }, {}, 'orphan'],
    ['started within the margin after the init: still the owner', { labels: { 'mcpmon.pid': '4242' }, owners: [[4242, alive(NOW - 10 * M + 500 + OWNER_START_MARGIN_MS)]] }, {}, null],
    ['started beyond the margin after the init: reused', { labels: { 'mcpmon.pid': '4242' }, owners: [[4242, alive(NOW - 10 * M + 500 + OWNER_START_MARGIN_MS + 10)]] }, {}, 'orphan'],
    // The wall clock stepped 3 s forward after the container was created: btime (and every start
    // computed from it, the init's and the owner's alike) moved 3 s, Created did not.
    [
      'clock stepped 3 s forward: a live owner started 0.3 s before Created, read 2.7 s after it, is still the owner',
      { labels: { 'mcpmon.pid': '4242' }, initStartMs: NOW - 10 * M + 500 + 3 * S, owners: [[4242, alive(NOW - 10 * M - 300 + 3 * S)]] },
      {},
      null,
    ],
    [
      'clock stepped 1 h forward (VM resumed): still the owner',
      { labels: { 'mcpmon.pid': '4242' }, initStartMs: NOW - 10 * M + 500 + H, owners: [[4242, alive(NOW - 10 * M - 300 + H)]] },
      {},
      null,
    ],
    ["the init's start could not be read: not judged", { labels: { 'mcpmon.pid': '4242' }, initStartMs: null, owners: [[4242, null]] }, {}, null],
    ['no owner label', {}, {}, null],
    ['no owner label, --orphan-unlabelled', {}, { orphanUnlabelled: true }, 'orphan'],
    ['remote engine: never an orphan by PID', { labels: { 'mcpmon.pid': '4242' }, owners: [[4242, null]] }, { localEngine: false }, null],
    ['this /proc is not the engine host\'s', { labels: { 'mcpmon.pid': '4242' }, owners: [[4242, null]], hostProcVisible: false }, {}, null],
    ['malformed owner label', { labels: { 'mcpmon.pid': 'abc' } }, {}, null],
    [
      'regex owner label, owner gone',
      { labels: { 'mcp-session': 'mcp-session-100-4242-1764590000' }, owners: [[4242, null]] },
      { ownerLabels: [{ key: 'mcp-session', pattern: /^mcp-session-\d+-(\d+)-/u }] },
      'orphan',
    ],
    [
      'two owner labels, one alive: kept',
      { labels: { 'mcpmon.pid': '4242', 'x.pid': '77' }, owners: [[4242, null], [77, alive()]] },
      { ownerLabels: [{ key: 'mcpmon.pid' }, { key: 'x.pid' }] },
      null,
    ],
  ];
  for (const [what, s, rules, rule] of rows) {
    test(what, () => {
      const plan = decideReap([subject(s)], { ...RULES, ...rules }, NOW);
      expect(plan.stop.map((d) => d.rule)).toEqual(rule ? [rule as 'orphan'] : []);
    });
  }

  test('figures: owner PID, that it is dead and why', () => {
    const plan = decideReap([subject({ labels: { 'mcpmon.pid': '4242' }, owners: [[4242, alive(NOW - M)]] })], RULES, NOW);
    expect(plan.stop[0]!.figures.owners).toEqual([
      { label: 'mcpmon.pid', pid: 4242, alive: false, why: 'started after the container', ownerStartedAt: new Date(NOW - M).toISOString() },
    ]);
  });

  test('a malformed owner label, a remote engine, an invisible /proc are reported, not guessed', () => {
    const cases: [Spec, Partial<ReapRules>][] = [
      [{ labels: { 'mcpmon.pid': 'abc' } }, {}],
      [{ labels: { 'mcpmon.pid': '1' }, owners: [[1, null]] }, { localEngine: false }],
      [{ labels: { 'mcpmon.pid': '1' }, owners: [[1, null]], hostProcVisible: false }, {}],
      [{ labels: { 'mcpmon.pid': '1' }, owners: [[1, null]], initStartMs: null }, {}],
    ];
    for (const [s, rules] of cases) {
      const plan = decideReap([subject(s)], { ...RULES, ...rules }, NOW);
      expect(plan.stop).toEqual([]);
      expect(plan.problems).toHaveLength(1);
    }
  });
});

describe('age rule', () => {
  test('off without --max-age', () => {
    expect(decideReap([subject({ startedAtMs: NOW - 30 * 86_400_000 })], RULES, NOW).stop).toEqual([]);
  });
  test('the container start, or the start label in seconds or in ms', () => {
    const rules = { ...RULES, maxAgeMs: H, startedLabel: 'mcp-started' };
    const old = subject({ startedAtMs: NOW - 2 * H });
    const young = subject({ startedAtMs: NOW - 30 * M });
    const labelSeconds = subject({ labels: { 'mcp-started': String((NOW - 2 * H) / 1000) } });
    const labelMs = subject({ labels: { 'mcp-started': String(NOW - 2 * H) } });
    const labelYoung = subject({ startedAtMs: NOW - 5 * H, labels: { 'mcp-started': String((NOW - 5 * M) / 1000) } });
    const plan = decideReap([old, young, labelSeconds, labelMs, labelYoung], rules, NOW);
    expect(plan.stop.map((d) => d.name).sort()).toEqual([old.name, labelSeconds.name, labelMs.name].sort());
    expect(plan.stop.find((d) => d.name === labelMs.name)!.figures).toEqual({ ageSeconds: 7200, maxAgeSeconds: 3600, startedFrom: 'label mcp-started' });
  });
  test('label pidwarden.max-age overrides, also without --max-age', () => {
    const a = subject({ startedAtMs: NOW - 2 * H, labels: { 'pidwarden.max-age': '3h' } });
    const b = subject({ startedAtMs: NOW - 2 * H, labels: { 'pidwarden.max-age': '1h' } });
    expect(decideReap([a, b], { ...RULES, maxAgeMs: 30 * M }, NOW).stop.map((d) => d.name)).toEqual([b.name]);
    expect(decideReap([b], RULES, NOW).stop.map((d) => d.name)).toEqual([b.name]);
  });
  test('--max-age longer than the label\'s narrows it: 2 h old under pidwarden.max-age=1h and --max-age 7d runs on', () => {
    const b = subject({ startedAtMs: NOW - 2 * H, labels: { 'pidwarden.max-age': '1h' } });
    expect(decideReap([b], { ...RULES, maxAgeMs: 7 * 24 * H }, NOW).stop).toEqual([]);
  });
  test('a start label before 2000 (20261201, a YYYYMMDD date read as seconds) is a problem, not a container 56 years old', () => {
    const plan = decideReap([subject({ startedAtMs: NOW - M, labels: { 'mcp-started': '20261201' } })], { ...RULES, maxAgeMs: H, startedLabel: 'mcp-started' }, NOW);
    expect(plan.stop).toEqual([]);
    expect(plan.problems.map((p) => p.reason)).toEqual([expect.stringContaining('mcp-started="20261201"')]);
    expect(plan.problems[0]!.reason).toContain('age rule not applied');
  });
  // A board without a hardware clock: the engine starts its restart-policy containers at boot with
  // the clock at 1970 or at fake-hwclock's last saved time, then NTP steps it forward. btime, read
  // after the step, is right; the StartedAt recorded before it is not.
  test('a container start recorded before the clock was set (before this boot, or before 2000) is a problem, not an age', () => {
    const BOOT = NOW - 10 * M;
    const dayBehind = subject({ startedAtMs: BOOT + 20 * S - 86_400_000, hostBootMs: BOOT });
    const epoch = subject({ startedAtMs: 30 * S });
    const afterBoot = subject({ startedAtMs: BOOT + 20 * S - 2 * H, hostBootMs: BOOT - 3 * H });
    const plan = decideReap([dayBehind, epoch, afterBoot], { ...RULES, maxAgeMs: H }, NOW);
    expect(plan.stop.map((d) => d.name)).toEqual([afterBoot.name]);
    expect(plan.problems.map((p) => [p.name, p.skipped])).toEqual([[dayBehind.name, false], [epoch.name, false]]);
    expect(plan.problems[0]!.reason).toContain('is before this host booted');
    expect(plan.problems[0]!.reason).toContain('age rule not applied');
    expect(plan.problems[1]!.reason).toContain('1970-01-01T00:00:30.000Z: before 2000-01-01');
    // a minute of slack for btime's truncation and drift: a start at boot, on the second, is a start
    const atBoot = subject({ startedAtMs: BOOT - 30 * S - 2 * H, hostBootMs: BOOT - 2 * H });
    expect(decideReap([atBoot], { ...RULES, maxAgeMs: H }, NOW).stop.map((d) => d.name)).toEqual([atBoot.name]);
  });
  test('a malformed start label is a problem, never the container start instead', () => {
    const plan = decideReap([subject({ startedAtMs: NOW - 5 * H, labels: { 'mcp-started': 'yesterday' } })], { ...RULES, maxAgeMs: H, startedLabel: 'mcp-started' }, NOW);
    expect(plan.stop).toEqual([]);
    expect(plan.problems[0]!.reason).toContain('mcp-started');
  });
});

describe('labels', () => {
  test('pidwarden.reap=false keeps a container any rule would stop', () => {
    const plan = decideReap([subject({ labels: { 'mcpmon.pid': '9', 'pidwarden.reap': 'false' }, owners: [[9, null]] })], RULES, NOW);
    expect(plan.stop).toEqual([]);
    expect(plan.kept.map((d) => d.rule)).toEqual(['orphan']);
  });
  test('a malformed pidwarden.reap or pidwarden.max-age skips the container', () => {
    for (const labels of [{ 'pidwarden.reap': 'nope' }, { 'pidwarden.max-age': 'soon' }] as Record<string, string>[]) {
      const plan = decideReap([subject({ labels: { ...labels, 'mcpmon.pid': '9' }, owners: [[9, null]] })], RULES, NOW);
      expect(plan.stop).toEqual([]);
      expect(plan.problems[0]!.skipped).toBe(true);
    }
  });
  test('a malformed pidwarden.enable skips the container, naming the label and the value', () => {
    for (const value of ['no', 'TRUE', '0']) {
      const plan = decideReap([subject({ labels: { 'pidwarden.enable': value, 'mcpmon.pid': '9' }, owners: [[9, null]] })], RULES, NOW);
      expect(plan.stop).toEqual([]);
      expect(plan.problems.map((p) => [p.skipped, p.reason])).toEqual([[true, `label pidwarden.enable=${JSON.stringify(value)}: expected true or false; container skipped`]]);
    }
  });
});

describe("never stopped: pidwarden's own container, a pod's infra container", () => {
  test("pidwarden's own container (reap --all --max-age 1d, pidwarden up for 26 h): a notice, no stop", () => {
    const own = subject({ name: 'pidwarden', image: 'ghcr.io/x/pidwarden', startedAtMs: NOW - 26 * H });
    const other = subject({ startedAtMs: NOW - 26 * H });
    const plan = decideReap([own, other], { ...RULES, maxAgeMs: 24 * H, ownContainerIds: [own.id] }, NOW);
    expect(plan.stop.map((d) => d.name)).toEqual([other.name]);
    expect(plan.kept).toEqual([]);
    expect(plan.problems).toEqual([{ id: own.id, name: own.name, reason: "never stopped: pidwarden's own container; the age rule would stop it", skipped: false }]);
  });
  test('Podman pods under --all --max-per-group 3: their 4 infra containers (one pause image) are one group, none stopped', () => {
    const infra = [1, 2, 3, 4].map((i) => subject({ name: `pod${i}-infra`, image: 'localhost/podman-pause:4.3.1-0', startedAtMs: NOW - i * H }));
    const plan = decideReap(infra, { ...RULES, maxPerGroup: 3 }, NOW);
    expect(plan.stop).toEqual([]);
    expect(plan.floods).toEqual([{ group: 'image localhost/podman-pause:4.3.1-0', size: 4, max: 3 }]);
    expect(plan.problems.map((p) => [p.name, p.reason])).toEqual([[infra[3]!.name, "never stopped: a pod's infra container (image localhost/podman-pause:4.3.1-0); the pile rule would stop it"]]);
  });
  test('an orphan in a pod is stopped, its infra container is not', () => {
    const infra = subject({ image: 'k8s.gcr.io/pause:3.5', labels: { 'mcpmon.pid': '5' }, owners: [[5, null]] });
    const member = subject({ labels: { 'mcpmon.pid': '5' }, owners: [[5, null]] });
    expect(decideReap([infra, member], RULES, NOW).stop.map((d) => d.name)).toEqual([member.name]);
  });
  test('which images are pods\' infra images', () => {
    const yes = ['localhost/podman-pause:4.3.1-0', 'localhost/podman-pause:5.4.0-1737590400', 'k8s.gcr.io/pause:3.5', 'registry.k8s.io/pause:3.9', `registry.k8s.io/pause@sha256:${'e'.repeat(64)}`, 'localhost:5000/pause', 'pause'];
    const no = ['busybox', 'pause-app:1', 'ghcr.io/x/pauser:1', 'localhost:5000/app', 'pause/app:1', 'podman:4.3'];
    expect(yes.filter((i) => !isPodInfraImage(i))).toEqual([]);
    expect(no.filter((i) => isPodInfraImage(i))).toEqual([]);
  });
  test('builtInExemption: by ID only for our own container; by image for a pause container', () => {
    const id = 'f'.repeat(64);
    expect(builtInExemption({ id, image: 'busybox' }, [id])).toBe("pidwarden's own container");
    expect(builtInExemption({ id, image: 'busybox' }, ['e'.repeat(64)])).toBeNull();
    expect(builtInExemption({ id, image: 'busybox' })).toBeNull();
  });
  test('pidwarden.reap=false that another rule hits still counts in its group (README)', () => {
    // 4 running, max 3: the exempt one is over its own max-age, and stays running
    const exempt = subject({ startedAtMs: NOW - 5 * M, labels: { 'pidwarden.reap': 'false', 'pidwarden.max-age': '1m' } });
    const older = [10, 20, 30].map((m) => subject({ startedAtMs: NOW - m * M }));
    const plan = decideReap([exempt, ...older], { ...RULES, maxPerGroup: 3 }, NOW);
    expect(plan.stop.map((d) => `${d.rule} ${d.name}`)).toEqual([`pile ${older[2]!.name}`]);
    expect(plan.stop[0]!.figures.groupSize).toBe(4);
    expect(plan.kept.map((d) => `${d.rule} ${d.name}`)).toEqual([`age ${exempt.name}`]);
  });
  test('an exempt container kept by one rule is not said kept again by the pile', () => {
    const ex = [1, 2].map((i) => subject({ labels: { 'pidwarden.reap': 'false' }, startedAtMs: NOW - (100 + i) * M }));
    const rest = [1, 2, 3].map((i) => subject({ startedAtMs: NOW - i * M }));
    const plan = decideReap([...ex, ...rest], { ...RULES, maxAgeMs: 90 * M, maxPerGroup: 3 }, NOW);
    expect(plan.kept.map((d) => `${d.rule} ${d.name}`)).toEqual([`age ${ex[1]!.name}`, `age ${ex[0]!.name}`]);
    expect(plan.stop).toEqual([]);
  });
});

describe('idle rule', () => {
  const sample = (t: number, cpuNs: number, blockBytes = 0, netBytes = 0): UsageSample => ({ t, cpuNs, blockBytes, netBytes });
  const idleFor = 5 * M;
  const rules = { ...RULES, idleForMs: idleFor };
  test('idle: low CPU, no I/O, measured for the whole window', () => {
    const s = subject({ usage: [sample(NOW - 6 * M, 1e9), sample(NOW - 3 * M, 1e9 + 1e6), sample(NOW, 1e9 + 2e6)] });
    const plan = decideReap([s], rules, NOW);
    expect(plan.stop.map((d) => d.rule)).toEqual(['idle']);
    expect(plan.stop[0]!.figures.idleForSeconds).toBe(360);
  });
  const notIdle: [string, UsageSample[]][] = [
    ['not measured for the whole window', [sample(NOW - 4 * M, 0), sample(NOW, 0)]],
    ['busy: 1 % of a core in one interval', [sample(NOW - 6 * M, 0), sample(NOW - 3 * M, 0), sample(NOW, 1.8e9)]],
    ['block I/O grew', [sample(NOW - 6 * M, 0, 0), sample(NOW, 0, 4096)]],
    ['network I/O grew', [sample(NOW - 6 * M, 0, 0, 0), sample(NOW, 0, 0, 100)]],
    ['restarted within the window (counters went down)', [sample(NOW - 10 * M, 5e9), sample(NOW - 2 * M, 1e6), sample(NOW, 1e6)]],
  ];
  for (const [what, usage] of notIdle) {
    test(`not idle: ${what}`, () => expect(decideReap([subject({ usage })], rules, NOW).stop).toEqual([]));
  }
  test('off without --idle-for', () => {
    expect(decideReap([subject({ usage: [sample(NOW - 6 * M, 0), sample(NOW, 0)] })], RULES, NOW).stop).toEqual([]);
  });

  // A board without a hardware clock: booted at fake-hwclock's saved time, NTP steps the clock 2
  // days forward between two samples 30 s apart (uptime 30 s -> 60 s). On the wall clock alone,
  // 5 ms of CPU over 2 days read as idle for 172,830 s, and a server up for a minute was stopped.
  const at = (t: number, upMs: number, cpuNs: number): UsageSample => ({ t, cpuNs, blockBytes: 0, netBytes: 0, upMs });
  test('not idle: the wall clock stepped forward between two samples (their uptimes 30 s apart)', () => {
    const STEP = 2 * 86_400_000;
    const usage = [at(NOW - STEP - 30 * S, 30 * S, 2e9), at(NOW, 60 * S, 2e9 + 5e6)];
    const plan = decideReap([subject({ usage })], rules, NOW);
    expect(plan.stop).toEqual([]);
    // and with the uptime keeping pace, the same two samples 6 minutes apart are idle as before
    const steady = [at(NOW - 6 * M, 30 * S, 2e9), at(NOW, 30 * S + 6 * M, 2e9 + 5e6)];
    expect(decideReap([subject({ usage: steady })], rules, NOW).stop.map((d) => d.rule)).toEqual(['idle']);
  });
  test('a sample without the uptime (a state file written before it was kept) does not compare with one that has it', () => {
    const usage = [sample(NOW - 6 * M, 2e9), at(NOW, 6 * M, 2e9)];
    expect(decideReap([subject({ usage })], rules, NOW).stop).toEqual([]);
  });
});

describe('pile rule', () => {
  test('12 of one image, max 3: the 9 oldest go, oldest first', () => {
    const subjects = Array.from({ length: 12 }, (_, i) => subject({ startedAtMs: NOW - (i + 1) * M }));
    const plan = decideReap(subjects, { ...RULES, maxPerGroup: 3 }, NOW);
    expect(plan.stop.map((d) => d.name)).toEqual(subjects.slice(3).reverse().map((s) => s.name));
    expect(plan.stop[0]!.figures).toEqual({ group: 'image busybox', groupSize: 12, maxPerGroup: 3 });
    expect(plan.floods).toEqual([{ group: 'image busybox', size: 12, max: 3 }]);
  });
  test('by --group-label; containers without it are in no group', () => {
    const a = [1, 2, 3].map((i) => subject({ startedAtMs: NOW - i * M, labels: { svc: 'pg' } }));
    const other = [1, 2, 3].map((i) => subject({ startedAtMs: NOW - i * M }));
    const plan = decideReap([...a, ...other], { ...RULES, maxPerGroup: 2, groupLabel: 'svc' }, NOW);
    expect(plan.stop.map((d) => d.name)).toEqual([a[2]!.name]);
  });
  test('what other rules stop no longer counts in the pile; an exempt container counts but stays', () => {
    const orphan = subject({ startedAtMs: NOW - 9 * M, labels: { 'mcpmon.pid': '5' }, owners: [[5, null]] });
    const exempt = subject({ startedAtMs: NOW - 8 * M, labels: { 'pidwarden.reap': 'false' } });
    const rest = [1, 2, 3].map((i) => subject({ startedAtMs: NOW - i * M }));
    const plan = decideReap([orphan, exempt, ...rest], { ...RULES, maxPerGroup: 2 }, NOW);
    expect(plan.stop.map((d) => `${d.rule} ${d.name}`)).toEqual([`orphan ${orphan.name}`, `pile ${rest[2]!.name}`]);
    expect(plan.kept.map((d) => d.name)).toEqual([exempt.name]);
  });
});

describe('order and one rule per container', () => {
  test('orphan, age, idle, pile; oldest first within each', () => {
    const o1 = subject({ startedAtMs: NOW - 2 * M, labels: { 'mcpmon.pid': '5' }, owners: [[5, null]] });
    const o2 = subject({ startedAtMs: NOW - 3 * M, labels: { 'mcpmon.pid': '6' }, owners: [[6, null]] });
    const aged = subject({ startedAtMs: NOW - 3 * H, labels: { 'mcpmon.pid': '7' }, owners: [[7, alive(NOW - 4 * H)]] });
    const plan = decideReap([o1, aged, o2], { ...RULES, maxAgeMs: H }, NOW);
    expect(plan.stop.map((d) => `${d.rule} ${d.name}`)).toEqual([`orphan ${o2.name}`, `orphan ${o1.name}`, `age ${aged.name}`]);
  });
});

describe('parsers', () => {
  test('ownerPidOf', () => {
    expect(ownerPidOf(' 123 ', { key: 'k' })).toBe(123);
    expect(ownerPidOf('0', { key: 'k' })).toBeTypeOf('string');
    expect(ownerPidOf('99999999', { key: 'k' })).toBeTypeOf('string');
    expect(ownerPidOf('mcp-session-1-77-1700000000', { key: 'k', pattern: /^mcp-session-\d+-(\d+)-/u })).toBe(77);
    expect(ownerPidOf('other', { key: 'k', pattern: /^mcp-session-\d+-(\d+)-/u })).toBeTypeOf('string');
  });
  test('parseStartLabel: seconds or ms since the epoch', () => {
    expect(parseStartLabel('1764590000', NOW)).toBe(1764590000000);
    expect(parseStartLabel('1764590000123', NOW)).toBe(1764590000123);
    expect(parseStartLabel('x', NOW)).toBeTypeOf('string');
    expect(parseStartLabel('-5', NOW)).toBeTypeOf('string');
  });
  test('parseStartLabel: a number that is no plausible start is refused, with the date it would be', () => {
    const rows: [string, string | number][] = [
      ['20261201', '1970-08-23T'], // a date written YYYYMMDD, read as seconds
      ['946684799', '1999-12-31T23:59:59'], // a second before 2000
      ['946684800', 946_684_800_000], // 2000-01-01T00:00:00Z
      [String((NOW + 86_400_000) / 1000), NOW + 86_400_000], // a day ahead: another machine's clock
      [String(NOW + 86_400_000 + 1000), '2026-12-02T12:00:01'], // ms, beyond a day ahead
      ['20261201000', '2612-'], // ms written in seconds' range: year 2612
      ['1' + '0'.repeat(300), 'a date out of range'],
    ];
    for (const [value, want] of rows) {
      const got = parseStartLabel(value, NOW);
      if (typeof want === 'number') expect(got).toBe(want);
      else expect(got).toContain(want);
    }
  });
});
