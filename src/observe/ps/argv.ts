// The ladder of `ps` invocations, tried in order inside the container (one program per exec, no
// shell), until one lists EVERY process with pid, ppid, stat and the FULL command line. Pure data
// plus pure judges. Run with `Tty: false` and LC_ALL=C.UTF-8 in the exec env (procps prints one
// '?' per non-ASCII byte in the C locale: fixture procps ps-ef.txt vs ps-ef.LC_ALL=C.UTF-8.txt).
//
// Cost per build (fixtures in test/fixtures/ps; option acceptance also checked by running
// Debian's busybox-static 1.35, procps-ng 4.0.2 and toybox 0.8.9 binaries):
//   BusyBox desktop (1.35 Debian, 1.36.1 Alpine, 1.36.1 minimal) → attempt 0, 1 exec
//   procps-ng 4.0.2                                            → attempt 0, 1 exec
//   toybox 0.8.9                                               → attempt 0 fails, attempt 1: 2 execs
//   BusyBox no-desktop minimal                                 → attempt 0 fails, attempt 3: 2 execs
//                                  (when the caller follows nextPsAttempt(); 4 execs in plain order)
import { parsePs, type ParsedPs } from './parse.ts';
import { programMissing } from '../../engine/exec-status.ts';

export const PS_ATTEMPT = {
  /**
   * `ps -e -o pid,stat,ppid,stat,args ww` — BusyBox desktop and procps in one exec.
   * - BusyBox desktop ignores -e/-A/-f/... and any argument without a dash (its `ps ww`, `ps -A`,
   *   `ps -ef` fixtures equal plain `ps`); pid, ppid, stat and args are accepted by all three
   *   desktop builds (`-o` error lists in ps-eo-*.err). It rejects `-w`/`-ww` ("invalid option --
   *   'w'", real 1.35 binary), so width comes from BSD `ww` instead. args must stay LAST: BusyBox
   *   drops the columns after one that does not fit its 2048-byte line.
   * - STAT twice, after PID and after PPID: BusyBox prints a 6-digit PID in its 5-wide column with
   *   no separator, gluing it to the next number (parse.ts GLUED_NUMBER); a STAT value always
   *   starts with a letter, so `123456S    123457S    node …` still splits. Both BusyBox and
   *   procps accept a repeated column (checked on the real binaries).
   * - procps: without -e, `-o` lists only our uid's processes with a tty-less session (fixture
   *   ps-o-pid-ppid-stat-args.txt: 32 of 35 lines). The trailing BSD `ww` lifts the COLUMNS
   *   limit (checked: COLUMNS=100 cuts a 340-byte line without it, not with it) and does not
   *   narrow the -e selection.
   * - toybox rejects `ww` ("ps: bad ww", fixture ps-ww.err), BusyBox no-desktop rejects -e
   *   ("invalid option -- 'e'" + usage, fixture ps-eo-pid-ppid-etimes-args.err).
   */
  portable: 0,
  /**
   * `ps -w -e -o pid,ppid,stat,cmdline` — toybox. Its ARGS column cuts argv[0] at the last '/',
   * so npm's one-string title `npm exec @21st-dev/magic@latest` prints as `magic@latest` (fixture
   * toybox ps-o-pid-ppid-stat-args.txt); CMDLINE prints it whole (ps-o-pid-ppid-cmdline.txt).
   * -e: every process. -w: never cut a field (0.8.9 already prints whole lines into a pipe, even
   * with COLUMNS=100; -w keeps it so should a tty ever be attached). Its cmdline buffer still
   * holds ~2.8 KB at most (parse.ts TRUNCATION).
   */
  toyboxCmdline: 1,
  /**
   * `ps ww` — BusyBox no-desktop built with FEATURE_PS_WIDE (the default when DESKTOP is off):
   * lines up to 2048 bytes instead of 79. Only worth an exec when the usage text that the
   * rejected attempt printed lists `w` (the minimal build's does not: "This version of ps
   * accepts no options").
   */
  busyboxWide: 2,
  /** `ps` — anything else; on BusyBox no-desktop minimal lines are cut at 79 columns (flagged). */
  plain: 3,
} as const;

export const PS_ATTEMPTS: readonly string[][] = Object.freeze(
  [
    ['ps', '-e', '-o', 'pid,stat,ppid,stat,args', 'ww'],
    ['ps', '-w', '-e', '-o', 'pid,ppid,stat,cmdline'],
    ['ps', 'ww'],
    ['ps'],
  ].map((argv) => Object.freeze(argv) as string[]),
);

/** Environment for every ps exec. */
export const PS_EXEC_ENV: readonly string[] = Object.freeze(['LC_ALL=C.UTF-8']);

/** Structurally the engine's ExecResult (exitCode null = unknown). */
export interface PsAttemptResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** accept: use this output. next: try another attempt. give-up: no ps, or nothing left to try. */
export type PsVerdict = 'accept' | 'next' | 'give-up';

/** BusyBox prints its banner and usage on a rejected option (nodesktop ps-*.err). */
const BUSYBOX_USAGE = /BusyBox v\d/;
/** The usage line of FEATURE_PS_WIDE in a no-desktop build: "\tw\tWide output". */
const USAGE_LISTS_W = /^\s*w\s+Wide output/m;

export function judgePsAttempt(attempt: number, result: PsAttemptResult): PsVerdict {
  return assessPsAttempt(attempt, result).verdict;
}

/**
 * The attempt to run after `attempt` gave `result`, skipping those its error rules out; null when
 * this one is accepted or when there is nothing left worth trying.
 */
export function nextPsAttempt(attempt: number, result: PsAttemptResult): number | null {
  const a = assessPsAttempt(attempt, result);
  return a.verdict === 'next' ? a.next : null;
}

export type Assessment =
  | { verdict: 'accept'; parsed: ParsedPs }
  | { verdict: 'next'; next: number; why: string }
  | { verdict: 'give-up'; why: string };

/** The verdict with its reason, the next attempt, and the parse it was based on (parse once). */
export function assessPsAttempt(attempt: number, result: PsAttemptResult): Assessment {
  const ok = result.exitCode === 0;
  if (programMissing(result)) {
    return { verdict: 'give-up', why: 'no ps in the container' };
  }
  const parsed = parsePs(result.stdout);
  const complete = ok && parsed.rows.length > 0 && parsed.rows.every((r) => r.ppid !== undefined);
  switch (attempt) {
    case PS_ATTEMPT.portable:
      if (complete && parsed.flavor !== 'toybox') return { verdict: 'accept', parsed };
      if (complete) return { verdict: 'next', next: PS_ATTEMPT.toyboxCmdline, why: 'toybox ARGS cuts argv[0]' };
      if (BUSYBOX_USAGE.test(result.stderr)) {
        return USAGE_LISTS_W.test(result.stderr)
          ? { verdict: 'next', next: PS_ATTEMPT.busyboxWide, why: 'BusyBox without -o, with w' }
          : { verdict: 'next', next: PS_ATTEMPT.plain, why: 'BusyBox without options' };
      }
      return { verdict: 'next', next: PS_ATTEMPT.toyboxCmdline, why: 'options rejected' };
    case PS_ATTEMPT.toyboxCmdline:
      if (complete) return { verdict: 'accept', parsed };
      return { verdict: 'next', next: PS_ATTEMPT.plain, why: 'no cmdline column' };
    case PS_ATTEMPT.busyboxWide:
      if (ok && parsed.rows.length > 0) return { verdict: 'accept', parsed };
      return { verdict: 'next', next: PS_ATTEMPT.plain, why: 'ww rejected' };
    case PS_ATTEMPT.plain:
      if (ok && parsed.rows.length > 0) return { verdict: 'accept', parsed };
      return { verdict: 'give-up', why: 'plain ps gave no process list' };
    default:
      return { verdict: 'give-up', why: `no attempt ${attempt}` };
  }
}
