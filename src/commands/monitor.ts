// `pidwarden monitor`: observe every --interval seconds, clean up what is unhealthy, for weeks.
// A good daemon: no terminal needed, SIGHUP reopens the log, SIGTERM/SIGINT stop after the current
// action, the engine going away is survived, per-container state is bounded.
import { observeForLadder, runLadder, type LadderEnv, type LadderMemory } from '../act/ladder-run.ts';
import { figuresOf, health } from '../decide/health.ts';
import { containerPolicy, type ContainerPolicy } from '../decide/policy.ts';
import { ENABLE_LABEL } from '../decide/enable-label.ts';
import { isEngineLost } from '../engine/client.ts';
import { ContainerLister, notActingReason, type ContainerInfo } from '../engine/containers.ts';
import { EXIT, UsageError } from '../errors.ts';
import { createActionLog, type ActionLog } from '../log/logger.ts';
import { findPidsCgroup, readPidsSnapshotSync } from '../observe/cgroup.ts';
import { dirsUpTo } from '../observe/cgroup-parse.ts';
import { engineMessage, saysExecTimedOut } from '../engine/exec.ts';
import { probeTimeoutReason, type ContainerObservation } from '../observe/observation.ts';
import { ContainerBackoff } from './container-backoff.ts';
import { VERSION } from '../version.ts';
import { ladderMemory, openStateStore } from './cleanup.ts';
import { cheapSampleRow, GrowthSampler } from './monitor-samples.ts';
import { assess } from '../decide/classify.ts';
import { readPidsCounters } from '../observe/pids-limits.ts';
import type { CommandContext } from './context.ts';
import { MonitorState } from './monitor-state.ts';
import { acquirePidFile } from './pidfile.ts';
import { Reaper } from './reap-pass.ts';
import { StateStore } from '../state/state-file.ts';
import { MonitorMetrics } from '../metrics/monitor-metrics.ts';
import { startMetricsServer, type MetricsServer } from '../metrics/server.ts';
import { createNotifier, MONITOR_DRAIN_MS, type Notifier } from '../notify/notifier.ts';
import { actSelection, isExplicit, leftOutBecause } from './select.ts';

/** Engine retry backoff: start at 0.5 s, double, never longer than the interval. */
export const ENGINE_RETRY_FIRST_MS = 500;
/** A stuck container is probed again after 1 interval, then 2, 4, ... at most 10 minutes apart. */
const CONTAINER_BACKOFF_MAX_MS = 600_000;
/** How often the monitor runs a full garbage collection (collectIfDue). */
const FULL_GC_EVERY_MS = 60_000;

export async function runMonitor(ctx: CommandContext): Promise<number> {
  const s = ctx.settings;
  const releasePidFile = s.pidFile ? acquirePidFile(s.pidFile) : () => {};
  let log: ActionLog;
  let notifier: Notifier | null;
  let metrics: MonitorMetrics | null = null;
  let server: MetricsServer | null = null;
  try {
    log = createActionLog(s.logFile);
    notifier = createNotifier(s, log);
    if (s.metricsAddr) {
      metrics = new MonitorMetrics(s.intervalSeconds, Date.now());
      server = startMetricsServer(s.metricsAddr, metrics);
    }
  } catch (e) {
    releasePidFile(); // a monitor that never ran must not leave its pid file behind
    throw e;
  }
  // Every line to the log first; then the counters of /metrics, then notifications.
  log = notifier?.log ?? log;
  if (metrics) log = metrics.countingLog(log);
  const loop = new MonitorLoop(ctx, log, metrics);
  const onStop = (sig: string) => () => loop.stop(sig);
  const handlers = { SIGTERM: onStop('SIGTERM'), SIGINT: onStop('SIGINT'), SIGHUP: () => log.reopen() };
  for (const [sig, h] of Object.entries(handlers)) process.on(sig, h);
  try {
    log.info(
      {
        event: 'start',
        version: VERSION,
        pid: process.pid,
        interval: s.intervalSeconds,
        maxProcs: s.maxProcs,
        pidsRatio: s.pidsRatio,
        steps: s.steps,
        dryRun: s.dryRun,
        containers: s.containers,
        labels: s.labels,
        all: s.all,
        exclude: s.exclude,
        reap: s.reap,
        ...(server ? { metricsAddr: server.address } : {}),
        ...(isExplicit(s) ? {} : { optIn: `${ENABLE_LABEL}=true` }),
      },
      'monitor started',
    );
    await loop.run();
    server?.stop();
    await notifier?.drain(Date.now() + MONITOR_DRAIN_MS);
    log.info({ event: 'stop', reason: loop.stopReason ?? 'stopped' }, 'monitor stopped');
    return EXIT.ok;
  } finally {
    server?.stop();
    for (const [sig, h] of Object.entries(handlers)) process.off(sig, h);
    log.flush();
    releasePidFile();
  }
}

class MonitorLoop {
  stopReason: string | null = null;
  private readonly state: MonitorState;
  private readonly lister: ContainerLister;
  private readonly memory: LadderMemory;
  private readonly samples: GrowthSampler;
  /** --reap: the container-flood rules, once per cycle after the process ladders. */
  private readonly reaper: Reaper | null;
  /** Containers whose malformed label was already reported: once per container, not every cycle. */
  private readonly reportedBadLabels = new Set<string>();
  private readonly backoff: ContainerBackoff;
  /** Watches still running from an earlier cycle (a stuck probe): their container waits for them. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** The reap pass still running from an earlier cycle (one at a time). */
  private reapInFlight: Promise<void> | null = null;
  /** The observation problems last logged per container: each is said when it appears, not every cycle. */
  private readonly problemsSaid = new Map<string, string>();
  /** Cycles run so far; the heartbeat reports it (the benchmark divides CPU time by it). */
  private cycles = 0;
  private wake: (() => void) | null = null;
  private actionsSinceHeartbeat = 0;
  private lastHeartbeat = Date.now();
  private lastFullGc = Date.now();
  /** process.memoryUsage().heapUsed right after the last full collection (collectIfDue); null before the first. */
  private heapLiveBytes: number | null = null;
  private engineDownSince: number | null = null;
  private retryMs = ENGINE_RETRY_FIRST_MS;
  private inAction = 0;
  private releaseStop: (() => void) | null = null;
  /** Resolves once a stop was asked for and no kill/restart is in flight. One for the loop's life. */
  private readonly stopped = new Promise<void>((resolve) => (this.releaseStop = resolve));
  /** Ends the cycle being awaited, at a released stop (untilStopped). */
  private endCycle: (() => void) | null = null;

  constructor(
    private readonly ctx: CommandContext,
    private readonly log: ActionLog,
    private readonly metrics: MonitorMetrics | null = null,
  ) {
    this.state = new MonitorState();
    this.lister = new ContainerLister(ctx.engine, actSelection(ctx.settings), ctx.settings.procRoot);
    const store = openStateStore(ctx.settings.stateFile, log, ctx.io.err);
    this.memory = ladderMemory(store);
    this.samples = new GrowthSampler(store);
    const intervalMs = ctx.settings.intervalSeconds * 1000;
    this.backoff = new ContainerBackoff({ firstMs: intervalMs, maxMs: Math.max(intervalMs, CONTAINER_BACKOFF_MAX_MS) });
    this.reaper = ctx.settings.reap ? new Reaper(ctx.engine, ctx.settings, store) : null;
  }

  stop(reason: string): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.wake?.();
    this.maybeReleaseStop();
  }

  private maybeReleaseStop(): void {
    if (this.stopReason && this.inAction === 0) {
      this.releaseStop?.();
      this.endCycle?.();
    }
  }

  /**
   * `work`, or less once a stop is released. Not Promise.race with `stopped`: each race leaves a
   * reaction on that one long-lived promise, and a monitor kept 64 bytes a cycle that no collection
   * could free (200,000 cycles measured: 64.0 bytes each raced, 0.2 this way), 5 MiB a day at
   * --interval 1.
   */
  private untilStopped(work: Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.endCycle = resolve;
      if (this.stopReason && this.inAction === 0) resolve();
      void work.then(resolve, reject).finally(() => {
        if (this.endCycle === resolve) this.endCycle = null;
      });
    });
  }

  async run(): Promise<void> {
    while (!this.stopReason) {
      const started = Date.now();
      let delayMs = this.ctx.settings.intervalSeconds * 1000;
      try {
        // Observation can be abandoned at a stop; an action in flight is awaited (see stopped()).
        await this.untilStopped(this.cycle());
        if (this.engineDownSince !== null) {
          this.log.info({ event: 'engine-up', reason: `engine answers again after ${Math.round((Date.now() - this.engineDownSince) / 1000)} s` });
          this.engineDownSince = null;
          this.retryMs = ENGINE_RETRY_FIRST_MS;
        }
      } catch (e) {
        // A named container that does not exist: exit 2, on the first list the engine answers,
        // also when it was away at the start (the references are resolved on that list).
        if (this.cycles === 0 && e instanceof UsageError) throw e;
        if (isEngineLost(e)) {
          if (this.engineDownSince === null) {
            this.engineDownSince = Date.now();
            this.log.warn({ event: 'engine-down', reason: e instanceof Error ? e.message : String(e) }, 'engine unreachable; retrying');
          }
          delayMs = Math.min(delayMs, this.retryMs);
          this.retryMs = Math.min(this.retryMs * 2, this.ctx.settings.intervalSeconds * 1000);
        } else {
          this.log.error({ event: 'error', reason: e instanceof Error ? engineMessage(e) : String(e), dryRun: this.ctx.settings.dryRun });
        }
      }
      this.metrics?.cycleDone(started, Date.now(), this.engineDownSince === null);
      this.heartbeatIfDue();
      this.collectIfDue();
      if (this.stopReason) break;
      await this.sleep(Math.max(0, delayMs - (Date.now() - started)));
    }
    await this.stopped; // a kill or restart still in flight (a watch left running by its cycle) ends first
  }

  private heartbeatIfDue(): void {
    const now = Date.now();
    if (now - this.lastHeartbeat < this.ctx.settings.heartbeatSeconds * 1000) return;
    this.log.info({
      event: 'heartbeat',
      containers: this.state.size,
      cycles: this.cycles,
      actions: this.actionsSinceHeartbeat,
      engine: this.engineDownSince === null ? 'up' : 'down',
      rssBytes: process.memoryUsage.rss(),
      // What the JS heap still held after the last full collection: the figure a leak in
      // pidwarden's own objects would raise (RSS also moves with the allocator's free pages).
      ...(this.heapLiveBytes !== null ? { heapLiveBytes: this.heapLiveBytes } : {}),
    });
    this.lastHeartbeat = now;
    this.actionsSinceHeartbeat = 0;
  }

  /**
   * One full collection a minute. A cycle leaves a few MiB of short-lived objects, and left to
   * JSC's own timing the RSS of a monitor wandered in a 58-67 MiB band over a 10-minute soak
   * (README: Performance, row g): enough to hide growth, or to fake it. Collected every minute
   * it stays near its floor.
   */
  private collectIfDue(): void {
    const now = Date.now();
    if (now - this.lastFullGc < FULL_GC_EVERY_MS) return;
    Bun.gc(true);
    this.heapLiveBytes = process.memoryUsage().heapUsed;
    this.lastFullGc = now;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  private async cycle(): Promise<void> {
    const s = this.ctx.settings;
    // The first list resolves --container references (exit 2 for one that does not exist) and
    // returns the selected containers that are not running too, to say once why they are left alone.
    const infos = (await this.lister.list()).filter((i) => !leftOutBecause(i, s));
    if (this.cycles === 0) {
      for (const info of infos) {
        const reason = notActingReason(info);
        if (reason) this.log.info({ event: 'skipped', container: info.name, containerId: info.id, reason, dryRun: s.dryRun });
      }
      if (!isExplicit(s) && !infos.some((i) => i.running)) {
        const reason = `no running container carries ${ENABLE_LABEL}=true yet: label the containers to watch, or start the monitor with --container, --label or --all`;
        this.log.warn({ event: 'notice', reason });
        this.ctx.io.err(`pidwarden: ${reason}\n`);
      }
    }
    this.cycles++;
    const running = infos.filter((i) => i.running);
    const runningIds = new Set(running.map((i) => i.id));
    this.state.retain(runningIds);
    this.backoff.retain(runningIds);
    this.samples.retain(runningIds);
    this.metrics?.retain(runningIds);
    // one ID per container ever seen with a bad label would grow with a host's churn for weeks
    for (const id of this.reportedBadLabels) if (!runningIds.has(id)) this.reportedBadLabels.delete(id);
    for (const id of this.problemsSaid.keys()) if (!running.some((i) => i.id === id)) this.problemsSaid.delete(id);
    const now = Date.now();
    const watches = running
      .filter((info) => !this.inFlight.has(info.id))
      .filter((info) => this.backoff.ready(info.id, now) || this.ctx.engine.local)
      .map((info) => this.startWatch(info, !this.backoff.ready(info.id, now)));
    // One stuck container must not hold up the others: the cycle waits for its watches at most
    // one interval; a watch still running then goes on alone, and its container is skipped until
    // it ends. Engine failures still end the cycle (the engine-down backoff in run()).
    const settled = await Promise.race([Promise.allSettled(watches), this.delay(s.intervalSeconds * 1000)]);
    this.samples.flush();
    for (const r of settled ?? []) if (r.status === 'rejected') throw r.reason;
    // The reap pass runs beside the next cycles, like a watch left running, one pass at a time: its
    // stops take up to --timeout plus each container's stop timeout (Docker's default 10 s for a PID 1
    // that ignores SIGTERM, minutes for a compose stop_grace_period), and awaited here they held up
    // every container's ladder as long. A container a ladder holds is left to a later pass, and a
    // watch finds a container being stopped busy (both take its ladder lock: reap-pass.ts).
    if (this.reaper && !this.stopReason && this.reapInFlight === null) {
      this.reapInFlight = this.reap(infos, this.reaper)
        .catch((e: unknown) => {
          // an engine that went away is noticed by the next cycle's listing (engine-down, backoff)
          if (isEngineLost(e)) return;
          this.log.error({ event: 'error', reason: `reap: ${e instanceof Error ? engineMessage(e) : String(e)}`, dryRun: s.dryRun });
        })
        .finally(() => {
          this.reapInFlight = null;
        });
    }
  }

  private async reap(infos: ContainerInfo[], reaper: Reaper): Promise<void> {
    this.inAction++;
    try {
      const r = await reaper.pass(infos, this.log, () => this.stopReason !== null);
      // A refused stop sent nothing and changed nothing; refused again every cycle, it would count
      // as an action each time and cost an inspect per cycle for as long as it stays refused. A
      // busy one (a ladder held the container) was not sent either.
      const acted = r.outcomes.filter((o) => o.action.result !== 'refused' && o.action.result !== 'busy');
      this.actionsSinceHeartbeat += acted.length;
      for (const o of acted) this.lister.invalidate(o.info.id);
    } finally {
      this.inAction--;
      this.maybeReleaseStop();
    }
  }

  private startWatch(info: ContainerInfo, hostOnly: boolean): Promise<void> {
    const s = this.ctx.settings;
    const watch = this.watch(info, hostOnly)
      .catch((e: unknown) => {
        if (isEngineLost(e)) throw e;
        const retryInMs = this.backoff.failed(info.id, Date.now());
        this.log.error({ event: 'error', container: info.name, containerId: info.id, reason: e instanceof Error ? e.message : String(e), retryInMs, dryRun: s.dryRun });
      })
      .finally(() => this.inFlight.delete(info.id));
    this.inFlight.set(info.id, watch.catch(() => {}));
    return watch;
  }

  private delay(ms: number): Promise<undefined> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** A collector that failed (e.g. no cgroup in a private cgroup namespace) is said once, with its fix. */
  private noteProblems(info: ContainerInfo, obs: ContainerObservation): void {
    const problems = obs.problems.filter((p) => !saysExecTimedOut(p));
    const key = problems.join('\n');
    if ((this.problemsSaid.get(info.id) ?? '') === key) return;
    this.problemsSaid.set(info.id, key);
    for (const reason of problems) this.log.warn({ event: 'error', container: info.name, containerId: info.id, reason, dryRun: this.ctx.settings.dryRun });
  }

  /**
   * A probe of this watch hit --timeout: the container is stuck (e.g. at its pids limit). Said
   * once per streak with an `error` line; its next watches read the host's /proc instead of
   * exec'ing into it (a remote engine: skip it) until its backoff delay is over.
   */
  private noteProbeTimeout(info: ContainerInfo, obs: ContainerObservation, hostOnly: boolean): void {
    if (hostOnly) return;
    const reason = probeTimeoutReason(obs);
    if (!reason) {
      this.backoff.succeeded(info.id);
      return;
    }
    const retryInMs = this.backoff.failed(info.id, Date.now());
    this.log.error({
      event: 'error',
      container: info.name,
      containerId: info.id,
      reason: `${reason}; ${this.ctx.engine.local ? "reading the host's /proc instead" : 'not watched'} for the next ${retryInMs / 1000} s`,
      retryInMs,
      dryRun: this.ctx.settings.dryRun,
    });
  }

  /**
   * Cheap first: the health rule on the cgroup's figures, pids.current (tasks) and cgroup.procs
   * (processes, zombies excluded: pids.current still charges them, so pids pressure catches them).
   * Only a container this shows healthy is skipped; anything else is observed in full.
   */
  private async cheapHealthy(info: ContainerInfo, policy: ContainerPolicy): Promise<boolean> {
    const s = this.ctx.settings;
    if (!this.ctx.engine.local) return false;
    const now = Date.now();
    let cg = this.state.cgroupFor(info.id, info.initPid);
    if (cg === undefined) {
      const found = await findPidsCgroup(info.initPid, info.id, { procRoot: s.procRoot, cgroupRoot: s.cgroupRoot });
      cg = found ? { dir: found.dir, version: found.version, limitDirs: dirsUpTo(found.dir, found.top) } : null;
      this.state.rememberCgroup(info.id, info.initPid, cg);
    }
    const snap = cg === null ? null : readPidsSnapshotSync(cg.limitDirs);
    const healthy = snap !== null && snap.current !== null && health({ processes: snap.processes, tasks: snap.current, pidsMax: snap.max }, policy).verdict === 'healthy';
    this.metrics?.cheap(info, cg?.dir ?? null, snap, healthy);
    // A healthy container's sample from the same cheap figures: its tasks only (cheapSampleRow says why).
    if (cg && snap && healthy && this.samples.due(info.id, now)) {
      this.samples.add(info.id, info.name, cheapSampleRow(now, snap), readPidsCounters(cg.dir).forksRefused);
      this.metrics?.growth(info, this.samples.perHour(info.id, now));
    }
    return healthy;
  }

  private async watch(info: ContainerInfo, hostOnly: boolean): Promise<void> {
    const policy = containerPolicy(this.ctx.settings, info.labels);
    if (!policy.ok) {
      if (this.reportedBadLabels.has(info.id)) return;
      this.reportedBadLabels.add(info.id);
      const reason = `label ${policy.label}=${JSON.stringify(policy.value)}: ${policy.error}; container skipped`;
      this.log.error({ event: 'error', container: info.name, containerId: info.id, reason, dryRun: this.ctx.settings.dryRun });
      return;
    }
    // A container in backoff is read from the host's /proc only: no exec into a stuck container.
    const hostSettings = { ...this.ctx.settings, procSource: 'host' as const };
    const s = hostOnly ? hostSettings : this.ctx.settings;
    // The cheap figures cannot see zombies (monitor-state.ts, FULL_LOOK_EVERY_MS): a full look at
    // the first sight of a container and then every 5 minutes, whatever they say.
    if (!this.state.fullLookDue(info.id, Date.now()) && (await this.cheapHealthy(info, policy.policy))) {
      if (!hostOnly) this.backoff.succeeded(info.id);
      return;
    }
    const obs = await observeForLadder(this.ctx.engine, s, info, this.ctx.timeoutMs);
    if (obs.table) this.state.lookedInFull(info.id, Date.now());
    // (its ladder's looks after each step then read the host too: src/act/ladder-run.ts, afterProbeTimeout)
    this.noteProbeTimeout(info, obs, hostOnly);
    this.noteProblems(info, obs);
    this.metrics?.observed(obs, policy.policy);
    const now = Date.now();
    if (this.samples.due(info.id, now)) {
      const trees = obs.table ? assess(obs.table.procs, obs.pids, policy.policy).trees.length : null;
      this.samples.add(info.id, info.name, [now, obs.table?.procs.length ?? null, trees, obs.pids.current], obs.limits?.forksRefused ?? null);
      this.metrics?.growth(info, this.samples.perHour(info.id, now));
    }
    if (health(figuresOf(obs.table?.procs.length ?? null, obs.pids), policy.policy).verdict !== 'unhealthy') return;
    if (this.stopReason) return;
    this.inAction++;
    // Recorded before the restart is sent: a restart that failed or timed out may still have been
    // carried out by the engine, and a climb that threw after it returns no outcome to say so.
    let restartAttempted = false;
    let gone = false;
    try {
      const memory: LadderMemory = {
        ...this.memory,
        recordRestart: (id, name, nowMs) => {
          restartAttempted = true;
          this.memory.recordRestart(id, name, nowMs);
        },
      };
      const env: LadderEnv = {
        engine: this.ctx.engine,
        settings: s,
        log: this.log,
        memory,
        execTimeoutMs: this.ctx.timeoutMs,
        shouldStop: () => this.stopReason !== null,
      };
      const outcome = await runLadder(env, obs, policy.policy);
      this.actionsSinceHeartbeat += outcome.stepsRun.length;
      gone = outcome.gone;
    } finally {
      // The cached inspect names the run before the restart: on a remote engine nothing else would replace it.
      if (restartAttempted || gone) this.lister.invalidate(info.id);
      this.inAction--;
      this.maybeReleaseStop();
    }
  }
}
