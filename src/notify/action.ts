// From the action log's lines to the actions an operator is told about: a kill step (its SIGTERM
// batches gathered), a restart, a restart skipped or suppressed. Fed line by line; pure apart from
// the callback, so the ladder (src/act/ladder-run.ts) is not touched.
import type { ActionFields } from '../log/logger.ts';

export type ActionEvent = 'kill' | 'restart' | 'restart-skipped' | 'restart-suppressed';

export interface Action {
  event: ActionEvent;
  container: string;
  containerId: string;
  step: string;
  /** PIDs in the container of the processes sent SIGTERM (kill only). */
  pids: number[];
  commands: string[];
  /** What went wrong within the step (kill only): processes no route could signal, survivors of SIGKILL. */
  errors: string[];
  reason: string;
  dryRun: boolean;
  /** ISO time of the line that completed the action. */
  time: string;
}

const KILL_STEPS = new Set(['dedupe', 'oldest', 'all']);

export class ActionCollector {
  /** One open kill step per container: its `kill` lines arrive one tree level at a time. */
  private readonly open = new Map<string, Action>();

  constructor(private readonly emit: (a: Action) => void) {}

  feed(f: ActionFields, nowMs: number): void {
    const id = f.containerId;
    // A ladder that lost the engine writes no result line: its kill step is over all the same,
    // and without this its notification waited for the container's next line, for as long as the
    // monitor ran when the container stayed healthy after.
    if (f.event === 'engine-down') this.flushAll(nowMs);
    if (!id) return;
    const time = new Date(nowMs).toISOString();
    const pending = this.open.get(id);
    if (f.event === 'kill' && pending) {
      // SIGKILL lines name the same processes again (the survivors of SIGTERM): not new victims.
      if (f.signal === 'SIGTERM') {
        pending.pids.push(...(f.pids ?? []));
        pending.commands.push(...(f.commands ?? []));
      }
      const notSignalled = stepError(f);
      if (notSignalled) pending.errors.push(notSignalled);
      return;
    }
    // The ladder logs an error line within a kill step, naming the step, when a whole tree level
    // could not be signalled by one route (the next route or level may still be signalled) and when
    // processes outlive SIGKILL. Errors without the step (a probe, the engine) end the step as before.
    if (f.event === 'error' && pending && f.step === pending.step) {
      pending.errors.push(stepError(f) ?? f.reason ?? 'error');
      return;
    }
    if (pending) this.close(id, time);
    const base = { container: f.container ?? id.slice(0, 12), containerId: id, step: f.step ?? '', reason: f.reason ?? '', dryRun: f.dryRun === true, time };
    if (f.event === 'step' && f.step && KILL_STEPS.has(f.step)) {
      this.open.set(id, { ...base, event: 'kill', pids: [], commands: [], errors: [] });
    } else if (f.event === 'restart' || f.event === 'restart-skipped' || f.event === 'restart-suppressed') {
      this.emit({ ...base, event: f.event, step: 'restart', pids: [], commands: [], errors: [] });
    }
  }

  /** End of run: what is still open is complete. */
  flushAll(nowMs: number): void {
    for (const id of [...this.open.keys()]) this.close(id, new Date(nowMs).toISOString());
  }

  private close(id: string, time: string): void {
    const a = this.open.get(id)!;
    this.open.delete(id);
    this.emit({ ...a, time });
  }
}

/** How many PIDs an error names before "+N more": a summary, not the log. */
const ERROR_PIDS_SHOWN = 10;

/** "host signal failed: EPERM (PIDs 17 28 +3 more)" for a line that names processes not signalled or still alive; null for one that does not. */
function stepError(f: ActionFields): string | null {
  const notSignalled = f['notSignalledPids'];
  const pids = Array.isArray(notSignalled) ? (notSignalled as number[]) : f.event === 'error' ? (f.pids ?? []) : [];
  if (pids.length === 0) return null;
  const why = typeof f['failure'] === 'string' ? f['failure'] : (f.reason ?? 'not signalled');
  const more = pids.length > ERROR_PIDS_SHOWN ? ` +${pids.length - ERROR_PIDS_SHOWN} more` : '';
  return `${why} (PID${pids.length === 1 ? '' : 's'} ${pids.slice(0, ERROR_PIDS_SHOWN).join(' ')}${more})`;
}
