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
}

/** Exec into a healthy container takes ~50 ms; 5 s means runc is stuck (e.g. at the pids limit). */
export const EXEC_TIMEOUT_MS = 5000;

export function makeContext(settings: Settings, io: Output): CommandContext {
  return { settings, engine: connectEngine(settings.dockerHost), io };
}
