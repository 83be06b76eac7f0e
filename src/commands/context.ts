// What every command gets: its settings, the engine connection, and where the host's kernel is.
import type { Settings } from '../cli/settings.ts';
import { connectEngine, type Engine } from '../engine/client.ts';

export interface Output {
  /** The command's main output (report, or JSONL when no --log-file). */
  out(text: string): void;
  /** Human notes: summaries, warnings. */
  err(text: string): void;
}

export interface CommandContext {
  settings: Settings;
  engine: Engine;
  io: Output;
  /**
   * --timeout in ms: the one deadline of every engine call (engineCall) and of every probe or
   * kill exec in a container. An exec into a healthy container takes ~50 ms, an engine call a few
   * ms; the default 10 s means the engine or runc is stuck (e.g. a container at its pids limit).
   */
  timeoutMs: number;
}

export function makeContext(settings: Settings, io: Output): CommandContext {
  const timeoutMs = Math.round(settings.timeoutSeconds * 1000);
  const engine = connectEngine(settings.dockerHost, { timeoutMs, procRoot: settings.procRoot });
  return { settings, engine, io, timeoutMs };
}
