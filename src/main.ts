// The only place that exits. Parses the command line, runs one command, maps errors to exit codes,
// and prints one clear line for any error: never a stack trace.
import { parseCli } from './cli/parse.ts';
import { describeError, exitCodeFor, EXIT } from './errors.ts';
import { makeContext, type Output } from './commands/context.ts';
import { runAudit } from './commands/audit.ts';
import { runCleanup } from './commands/cleanup.ts';
import { runMonitor } from './commands/monitor.ts';
import { runExplain } from './commands/explain.ts';
import { runReap } from './commands/reap.ts';
import { runTop } from './commands/top.ts';
import { writeSync } from 'node:fs';

// docker-modem parses tcp:// addresses with url.parse(); Bun then prints a DEP0169 warning on
// stderr, which would break the rule of one clear line per error.
process.noDeprecation = true;

const io: Output = {
  out: (text) => writeAll(1, text),
  err: (text) => writeAll(2, text),
};

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue; // non-blocking pipe is full; retry
      return; // EPIPE: the reader went away (e.g. `| head`); nothing more to say
    }
  }
}

async function main(argv: string[]): Promise<number> {
  try {
    const cli = await parseCli(argv, process.env);
    if (cli.kind === 'print') {
      io.out(cli.text);
      return EXIT.ok;
    }
    if (cli.command === 'monitor') {
      reexecWithoutBaselineJit();
      // yargs' parse leaves ~10 MiB of garbage; collected now, before the first cycle adds its own,
      // the monitor's peak RSS is 4 MiB lower (65 -> 61 MiB on 30 containers, measured).
      Bun.gc(true);
    }
    const ctx = makeContext(cli.settings, io);
    switch (cli.command) {
      case 'audit':
        return await runAudit(ctx);
      case 'cleanup':
        return await runCleanup(ctx);
      case 'monitor':
        return await runMonitor(ctx);
      case 'explain':
        return await runExplain(ctx, { isTTY: process.stdout.isTTY === true, columns: process.stdout.columns });
      case 'reap':
        return await runReap(ctx);
      case 'top':
        return await runTop(ctx);
    }
  } catch (e) {
    io.err(`pidwarden: ${describeError(e)}\n`);
    if (process.env['PIDWARDEN_DEBUG'] && e instanceof Error && e.stack) io.err(e.stack + '\n');
    return exitCodeFor(e);
  }
}

/** Set on the re-exec only: this BUN_JSC_useBaselineJIT is pidwarden's, not the operator's. */
const JIT_REEXEC_MARK = 'PIDWARDEN_JIT_REEXEC';

/**
 * The monitor's JavaScript runs in JSC's interpreter, without the baseline JIT (and so without the
 * optimising tiers above it): its peak RSS on 30 healthy containers went from 72 to 65 MiB for
 * 0.12 -> 0.14 ms of CPU per container-cycle (measured; `npm run bench` prints the rows, README:
 * Performance). Not the whole JIT (BUN_JSC_useJIT=0, -18 MiB): bun:ffi then refuses to load
 * ("bun:ffi requires the JIT"), and flock and pidfds go with it. JSC reads its options only at
 * start-up, from BUN_JSC_* variables, so the monitor replaces itself once (same PID, same stdio)
 * with the variable set; an operator's own BUN_JSC_useBaselineJIT or BUN_JSC_useJIT wins. Only in
 * the compiled binary, whose argv is ['bun', '/$bunfs/root/...', ...].
 */
function reexecWithoutBaselineJit(): void {
  const env = process.env;
  if (env[JIT_REEXEC_MARK] === '1') {
    // Read by JSC at start-up already; gone from the environment, so that an --on-action program
    // (a Bun or Node script, say) does not run without its baseline JIT because the monitor does.
    delete env[JIT_REEXEC_MARK];
    delete env['BUN_JSC_useBaselineJIT'];
    return;
  }
  if (env['BUN_JSC_useBaselineJIT'] !== undefined || env['BUN_JSC_useJIT'] !== undefined) return;
  if (!process.argv[1]?.startsWith('/$bunfs/')) return;
  try {
    process.execve?.(process.execPath, [process.execPath, ...process.argv.slice(2)], { ...env, BUN_JSC_useBaselineJIT: '0', [JIT_REEXEC_MARK]: '1' });
  } catch {
    // execve refused (a seccomp profile, a binary deleted since start): run on as started
  }
}

// A throw from inside a dependency's callback (e.g. Bun's http client on a bad URL) must end the
// run with one line, not a stack trace and a process that never exits under cron.
for (const event of ['unhandledRejection', 'uncaughtException'] as const) {
  process.on(event, (e: unknown) => {
    io.err(`pidwarden: internal error: ${describeError(e)}\n`);
    process.exit(EXIT.internal);
  });
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
