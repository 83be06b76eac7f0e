// Read a file under test/fixtures/ as text (verbatim: no trimming, so trailing newlines stay).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dir, '..', '..', 'fixtures');

export function fixture(...parts: string[]): string {
  return readFileSync(join(FIXTURES, ...parts), 'utf8');
}

export function fixtureJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(fixture(...parts)) as T;
}

// ------------------------------------------------- ps captures (test/fixtures/ps, see its INDEX.md)

/** One directory per real ps build, plus `_host-real-npm-exec`. */
export const PS_FIXTURES = join(FIXTURES, 'ps');

export const BB135 = 'busybox-1.35.0-debian-static';
export const ALPINE = 'busybox-1.36.1-alpine-config';
export const MINIMAL = 'busybox-1.36.1-defconfig-minimal-ps';
export const NODESKTOP = 'busybox-1.36.1-defconfig-nodesktop-minimal-ps';
export const TOYBOX = 'toybox-0.8.9-debian';
export const PROCPS = 'procps-ng-4.0.2-debian';
/** The six captured builds, BusyBox first. */
export const PS_VARIANTS = [BB135, ALPINE, MINIMAL, NODESKTOP, TOYBOX, PROCPS];

/** A capture of one build (`dir` is a variant above or `_host-real-npm-exec`), verbatim. */
export const psFixture = (dir: string, file: string): string => fixture('ps', dir, file);

/** A process of a build's ground-truth.json. */
export interface TruthProc {
  pid: number;
  ppid: number;
  argv: string[];
  cmdline_hex: string;
  comm: string;
  state: string;
  threads: number;
  start_ticks_since_boot: number;
  plan_id: number | null;
  role: string;
}

/** A build's ground-truth.json (the parts the tests read). */
export interface Truth {
  processes: TruthProc[];
  proc_stat_files: Record<string, { pid: number }>;
  commands: Record<string, { argv: string[] }>;
}

export const truthOf = (variant: string): Truth => JSON.parse(psFixture(variant, 'ground-truth.json')) as Truth;
