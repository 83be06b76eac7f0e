// `pidwarden monitor`: observe every --interval seconds, clean up what is unhealthy, for weeks.
// A good daemon: no terminal needed, SIGHUP reopens the log, SIGTERM/SIGINT stop after the current
// action, the engine going away is survived, per-container state is bounded.
import { observeForLadder, runLadder, type LadderEnv, type LadderMemory } from '../act/ladder-run.ts';
import { figuresOf, health } from '../decide/health.ts';
import { containerPolicy, ENABLE_LABEL, type ContainerPolicy } from '../decide/policy.ts';
import { isUnreachable } from '../engine/client.ts';
import { ContainerLister, selectContainers, type ContainerInfo } from '../engine/containers.ts';
import { EngineUnreachableError, EXIT, UsageError } from '../errors.ts';
import { createActionLog, type ActionLog } from '../log/logger.ts';
import { findPidsCgroup, readPidsSnapshotSync } from '../observe/cgroup.ts';
import { engineMessage } from '../engine/exec.ts';
import { VERSION } from '../version.ts';
import { stateMemory } from './cleanup.ts';
import { EXEC_TIMEOUT_MS, type CommandContext } from './context.ts';
import { MonitorState } from './monitor-state.ts';
import { acquirePidFile } from './pidfile.ts';
import { MonitorMetrics } from '../metrics/monitor-metrics.ts';
import { startMetricsServer, type MetricsServer } from '../metrics/server.ts';
import { createNotifier, MONITOR_DRAIN_MS, type Notifier } from '../notify/notifier.ts';
import { actSelection, isExplicit, leftOutBecause } from './select.ts';

/** Engine retry backoff: start at 0.5 s, double, never longer than the interval. */
export const ENGINE_RETRY_FIRST_MS = 500;

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
  /** Containers whose malformed label was already reported: once per container, not every cycle. */
  private readonly reportedBadLabels = new Set<string>();
  /** Cycles run so far; the heartbeat reports it (the benchmark divides CPU time by it). */
  private cycles = 0;
  private wake: (() => void) | null = null;
  private actionsSinceHeartbeat = 0;
  private lastHeartbeat = Date.now();
  private engineDownSince: number | null = null;
  private retryMs = ENGINE_RETRY_FIRST_MS;
  private inAction = 0;
  private releaseStop: (() => void) | null = null;
  /** Resolves once a stop was asked for and no kill/restart is in flight. One for the loop's life. */
  private readonly stopped = new Promise<void>((resolve) => (this.releaseStop = resolve));

  constructor(
    private readonly ctx: CommandContext,
    private readonly log: ActionLog,
    private readonly metrics: MonitorMetrics | null = null,
  ) {
    this.state = new MonitorState();
    this.lister = new ContainerLister(ctx.engine, actSelection(ctx.settings), ctx.settings.procRoot);
    this.memory = stateMemory(ctx.settings.stateFile, log, ctx.io.err);
  }

  stop(reason: string): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.wake?.();
    this.maybeReleaseStop();
  }

  private maybeReleaseStop(): void {
    if (this.stopReason && this.inAction === 0) this.releaseStop?.();
  }

  async run(): Promise<void> {
    let first = true;
    while (!this.stopReason) {
      const started = Date.now();
      let delayMs = this.ctx.settings.intervalSeconds * 1000;
      try {
        // Observation can be abandoned at a stop; an action in flight is awaited (see stopped()).
        await Promise.race([this.cycle(), this.stopped]);
        if (this.engineDownSince !== null) {
          this.log.info({ event: 'engine-up', reason: `engine answers again after ${Math.round((Date.now() - this.engineDownSince) / 1000)} s` });
          this.engineDownSince = null;
          this.retryMs = ENGINE_RETRY_FIRST_MS;
        }
      } catch (e) {
        if (first && e instanceof UsageError) throw e; // a named container that does not exist: exit 2
        if (e instanceof EngineUnreachableError || isUnreachable(e)) {
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
      first = false;
      this.metrics?.cycleDone(started, Date.now(), this.engineDownSince === null);
      this.heartbeatIfDue();
      if (this.stopReason) break;
      await this.sleep(Math.max(0, delayMs - (Date.now() - started)));
    }
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
    });
    this.lastHeartbeat = now;
    this.actionsSinceHeartbeat = 0;
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
    // The first cycle checks that named containers exist (exit 2 if not); later ones list cheaply.
    const listed = this.cycles === 0 ? await selectContainers(this.ctx.engine, actSelection(s)) : await this.lister.list();
    const infos = listed.filter((i) => !leftOutBecause(i, s));
    if (this.cycles === 0 && !isExplicit(s) && infos.length === 0) {
      const reason = `no running container carries ${ENABLE_LABEL}=true yet: label the containers to watch, or start the monitor with --container, --label or --all`;
      this.log.warn({ event: 'notice', reason });
      this.ctx.io.err(`pidwarden: ${reason}
`);
    }
    this.cycles++;
    this.state.retain(new Set(infos.map((i) => i.id)));
    this.metrics?.retain(new Set(infos.map((i) => i.id)));
    await Promise.all(
      infos.filter((i) => i.running).map((info) =>
        this.watch(info).catch((e: unknown) => {
          if (isUnreachable(e) || e instanceof EngineUnreachableError) throw e;
          this.log.error({ event: 'error', container: info.name, containerId: info.id, reason: e instanceof Error ? e.message : String(e), dryRun: s.dryRun });
        }),
      ),
    );
  }

  /**
   * Cheap first: the health rule on the cgroup's figures, pids.current (tasks) and cgroup.procs
   * (processes, zombies excluded: pids.current still charges them, so pids pressure catches them).
   * Only a container this shows healthy is skipped; anything else is observed in full.
   */
  private async cheapHealthy(info: ContainerInfo, policy: ContainerPolicy): Promise<boolean> {
    const s = this.ctx.settings;
    if (!this.ctx.engine.local) return false;
    let cg = this.state.cgroupFor(info.id, info.initPid);
    if (cg === undefined) {
      const found = await findPidsCgroup(info.initPid, { procRoot: s.procRoot, cgroupRoot: s.cgroupRoot });
      cg = found ? { dir: found.dir, version: found.version } : null;
      this.state.rememberCgroup(info.id, info.initPid, cg);
    }
    const snap = cg === null ? null : readPidsSnapshotSync(cg.dir);
    const healthy = snap !== null && snap.current !== null && health({ processes: snap.processes, tasks: snap.current, pidsMax: snap.max }, policy).verdict === 'healthy';
    this.metrics?.cheap(info, cg?.dir ?? null, snap, healthy);
    return healthy;
  }

  private async watch(info: ContainerInfo): Promise<void> {
    const s = this.ctx.settings;
    const policy = containerPolicy(s, info.labels);
    if (!policy.ok) {
      if (this.reportedBadLabels.has(info.id)) return;
      this.reportedBadLabels.add(info.id);
      const reason = `label ${policy.label}=${JSON.stringify(policy.value)}: ${policy.error}; container skipped`;
      this.log.error({ event: 'error', container: info.name, containerId: info.id, reason, dryRun: s.dryRun });
      return;
    }
    if (await this.cheapHealthy(info, policy.policy)) return;
    const obs = await observeForLadder(this.ctx.engine, s, info, EXEC_TIMEOUT_MS);
    this.metrics?.observed(obs, policy.policy);
    if (health(figuresOf(obs.table?.procs.length ?? null, obs.pids), policy.policy).verdict !== 'unhealthy') return;
    if (this.stopReason) return;
    this.inAction++;
    try {
      const env: LadderEnv = {
        engine: this.ctx.engine,
        settings: s,
        log: this.log,
        memory: this.memory,
        execTimeoutMs: EXEC_TIMEOUT_MS,
        shouldStop: () => this.stopReason !== null,
      };
      const outcome = await runLadder(env, obs, policy.policy);
      this.actionsSinceHeartbeat += outcome.stepsRun.length;
      if (outcome.restarted || outcome.gone) this.lister.invalidate(info.id);
    } finally {
      this.inAction--;
      this.maybeReleaseStop();
    }
  }
}
