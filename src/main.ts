// The only place that exits. Parses the command line, runs one command, maps errors to exit codes,
// and prints one clear line for any error: never a stack trace.
import { parseCli } from './cli/parse.ts';
import { describeError, exitCodeFor, EXIT } from './errors.ts';
import { makeContext, type Output } from './commands/context.ts';
import { runAudit } from './commands/audit.ts';
import { runCleanup } from './commands/cleanup.ts';
import { runMonitor } from './commands/monitor.ts';
import { writeSync } from 'node:fs';

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
    const ctx = makeContext(cli.settings, io);
    switch (cli.command) {
      case 'audit':
        return await runAudit(ctx);
      case 'cleanup':
        return await runCleanup(ctx);
      case 'monitor':
        return await runMonitor(ctx);
    }
  } catch (e) {
    io.err(`pidwarden: ${describeError(e)}\n`);
    if (process.env['PIDWARDEN_DEBUG'] && e instanceof Error && e.stack) io.err(e.stack + '\n');
    return exitCodeFor(e);
  }
}

process.on('unhandledRejection', (e) => {
  io.err(`pidwarden: internal error: ${describeError(e)}\n`);
  process.exit(EXIT.internal);
});

process.exit(await main(process.argv.slice(2)));
