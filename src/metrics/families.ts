// Every metric pidwarden exposes, in one place: names, units, HELP text. The monitor's /metrics and
// the audit's --prom-file are built from these lists (one registry, src/metrics/registry.ts).
// Per-container series carry `id` (short ID, as `docker ps`), `name` and `image`, the label names
// cAdvisor uses, so they join with its `container_*` series on `name`. No label takes unbounded
// values: no PIDs, no command lines.
import type { MetricDef } from './registry.ts';

export const M = {
  up: 'pidwarden_up',
  buildInfo: 'pidwarden_build_info',
  collectorSuccess: 'pidwarden_collector_success',
  engineUp: 'pidwarden_engine_up',
  cycles: 'pidwarden_cycles_total',
  lastCycleDuration: 'pidwarden_last_cycle_duration_seconds',
  lastCycleTimestamp: 'pidwarden_last_cycle_timestamp_seconds',
  interval: 'pidwarden_interval_seconds',
  auditTimestamp: 'pidwarden_audit_timestamp_seconds',
  healthy: 'pidwarden_container_healthy',
  status: 'pidwarden_container_status',
  processes: 'pidwarden_container_processes',
  runawayTrees: 'pidwarden_container_runaway_trees',
  orphanedTrees: 'pidwarden_container_orphaned_trees',
  duplicateTrees: 'pidwarden_container_duplicate_trees',
  zombies: 'pidwarden_container_zombies',
  tasks: 'pidwarden_container_tasks',
  pidsLimit: 'pidwarden_container_pids_limit',
  forksRefused: 'pidwarden_container_forks_refused_total',
  pidsLimitConfigured: 'pidwarden_container_pids_limit_configured',
  limitVerdict: 'pidwarden_container_limit_verdict',
  growthPerHour: 'pidwarden_container_growth_processes_per_hour',
  toMaxProcs: 'pidwarden_container_max_procs_forecast_seconds',
  toPidsMax: 'pidwarden_container_pids_limit_forecast_seconds',
  cpuPercent: 'pidwarden_container_cpu_percent',
  memoryBytes: 'pidwarden_container_memory_bytes',
  memoryLimitBytes: 'pidwarden_container_memory_limit_bytes',
  killed: 'pidwarden_processes_killed_total',
  restarts: 'pidwarden_restarts_total',
  restartsSuppressed: 'pidwarden_restarts_suppressed_total',
  restartsSkipped: 'pidwarden_restarts_skipped_total',
} as const;

const SELF: MetricDef[] = [
  { name: M.up, type: 'gauge', help: '1 when this run of pidwarden observed the engine, 0 when it failed (then the other figures are absent).' },
  { name: M.buildInfo, type: 'gauge', help: 'Always 1; the version label says which pidwarden runs.' },
  { name: M.collectorSuccess, type: 'gauge', help: 'Whether a collector succeeded for every container it was tried on, last time it ran (1) or failed for one (0).' },
  { name: M.engineUp, type: 'gauge', help: 'Whether the engine answered the last container list.' },
];

/** The figures both the audit and the monitor show for each container. */
const CONTAINER: MetricDef[] = [
  { name: M.healthy, type: 'gauge', help: "The one health rule: 1 healthy, 0 unhealthy (more than max-procs processes, or tasks >= pids-ratio x pids limit)." },
  { name: M.processes, type: 'gauge', help: 'Processes in the container (threads not counted).' },
  { name: M.runawayTrees, type: 'gauge', help: 'Runaway trees: processes matching --match or running from the npx cache, nested ones counted with their tree. Monitor: only for containers the cheap check did not show healthy.' },
  { name: M.orphanedTrees, type: 'gauge', help: 'Runaway trees whose npm exec wrapper is gone. Monitor: as runaway_trees.' },
  { name: M.duplicateTrees, type: 'gauge', help: 'Runaway trees beyond the first of each identical command line. Monitor: as runaway_trees.' },
  { name: M.zombies, type: 'gauge', help: 'Zombie processes in the container. Monitor: as runaway_trees.' },
  { name: M.tasks, type: 'gauge', help: 'pids.current of the container cgroup: tasks, threads and zombies included.' },
  { name: M.pidsLimit, type: 'gauge', help: 'Tasks the container may have: the smallest pids.max up its cgroup tree, less what other cgroups use below a shared parent; absent when unlimited.' },
  { name: M.forksRefused, type: 'counter', help: 'Forks the kernel refused at the pids limit (the "max" line of pids.events), where the cgroup is readable.' },
  { name: M.growthPerHour, type: 'gauge', help: 'Processes per hour, least squares over the last hour (else 6 hours) of the state file samples; absent without 3 samples over 2 minutes.' },
];

/** Audit only: the status needs duplicates and zombies of every container, and stats. */
const AUDIT_ONLY: MetricDef[] = [
  { name: M.status, type: 'gauge', help: 'Container status: 0 ok, 1 warn, 2 critical, 3 paused (never acted on).' },
  { name: M.pidsLimitConfigured, type: 'gauge', help: 'HostConfig.PidsLimit as configured; absent when none is (0 and -1 mean none).' },
  { name: M.limitVerdict, type: 'gauge', help: 'Always 1; the verdict label says why the pids limit did what it did: none, not-in-force, below-current, hit, ok.' },
  { name: M.toMaxProcs, type: 'gauge', help: 'Seconds until processes exceed max-procs at that rate; absent when not growing.' },
  { name: M.toPidsMax, type: 'gauge', help: 'Seconds until tasks reach the pids limit at the task rate; absent when not growing or unlimited.' },
  { name: M.cpuPercent, type: 'gauge', help: 'CPU percent over a short window.' },
  { name: M.memoryBytes, type: 'gauge', help: 'Memory used, page cache excluded.' },
  { name: M.memoryLimitBytes, type: 'gauge', help: 'Memory limit.' },
  { name: M.auditTimestamp, type: 'gauge', help: 'When this audit ran, in seconds since the epoch.' },
];

/** Monitor only: its loop and what it did. */
const MONITOR_ONLY: MetricDef[] = [
  { name: M.cycles, type: 'counter', help: 'Monitor cycles run since start.' },
  { name: M.lastCycleDuration, type: 'gauge', help: 'How long the last monitor cycle took.' },
  { name: M.lastCycleTimestamp, type: 'gauge', help: 'When the last monitor cycle ended, in seconds since the epoch.' },
  { name: M.interval, type: 'gauge', help: 'The monitor --interval: a cycle older than 3 intervals means the loop is stuck.' },
  { name: M.killed, type: 'counter', help: 'Processes sent SIGTERM by a ladder step (dry runs not counted).' },
  { name: M.restarts, type: 'counter', help: 'Container restarts by pidwarden (dry runs not counted).' },
  { name: M.restartsSuppressed, type: 'counter', help: 'Restarts due but withheld by --restart-limit (restart-suppressed).' },
  { name: M.restartsSkipped, type: 'counter', help: 'Restarts due but withheld for lack of evidence, by the rule never or for containers sharing its PID namespace (restart-skipped).' },
];

export const AUDIT_METRICS: readonly MetricDef[] = [...SELF, ...CONTAINER, ...AUDIT_ONLY];
export const MONITOR_METRICS: readonly MetricDef[] = [...SELF, ...MONITOR_ONLY, ...CONTAINER];

/** Which collector a problem string of src/observe/container.ts belongs to. */
export const COLLECTORS = ['engine', 'cgroup', 'processes', 'stats'] as const;
export type Collector = (typeof COLLECTORS)[number];
