// e. The floor: what any program costs before a line of pidwarden runs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ms, OUT, QUICK, results, row, run } from './common.ts';
import { buildVariant } from './build-variant.ts';

// Two floors: an empty compiled Bun program, and one that only loads the four packages pidwarden
// is built on (yargs, pino, dockerode, systeminformation), parses a command line with yargs, asks
// the engine for its container list every 0.25 s and does nothing else, built exactly like
// dist/pidwarden (scripts/build.ts). The
// second is what any monitor on these packages costs before a line of pidwarden runs.
/** Each floor program prints its own peak RSS (VmHWM) in KiB as it ends. */
const PRINT_PEAK = `
const hwm = /^VmHWM:\\s+(\\d+)/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'));
console.log(hwm ? hwm[1] : 'NaN');
`;
const EMPTY_FLOOR = `// an empty program (it only reports its peak RSS)\n${PRINT_PEAK}`;
const PACKAGES_FLOOR = `
import yargs from 'yargs';
import pino from 'pino';
import Docker from 'dockerode';
import si from 'systeminformation';
void [pino, si];
// One yargs parse of a one-option command, as any CLI on yargs does (measured alone: +10 MiB).
await yargs(['monitor', '--interval', '0.25']).exitProcess(false).command('monitor', 'm', (y) => y.option('interval', { type: 'string' })).parseAsync();
const docker = new Docker({ socketPath: (process.env.DOCKER_HOST ?? '').replace('unix://', '') });
const seconds = Number(process.argv[2] ?? 0);
const until = Date.now() + seconds * 1000;
do {
  await docker.listContainers();
  if (seconds > 0) await Bun.sleep(250);
} while (Date.now() < until);
${PRINT_PEAK}`;

export async function benchFloor(): Promise<void> {
  const build = (name: string, text: string) => {
    writeFileSync(join(OUT, `${name}.ts`), text);
    return buildVariant(name, join(OUT, `${name}.ts`));
  };
  const selfReport = (argv: string[], times = 3) => {
    const samples = Array.from({ length: times }, () => run(argv));
    return {
      ms: Math.min(...samples.map((r) => r.ms)),
      peakMiB: Math.min(...samples.map((r) => Number(r.out.trim().split('\n').pop()) / 1024)),
    };
  };
  const empty = selfReport([build('empty', EMPTY_FLOOR)]);
  const packages = selfReport([build('packages', PACKAGES_FLOOR), String(QUICK ? 8 : 30)], 1);
  const version = Math.min(...[0, 1, 2, 3, 4].map(() => run([BIN, '--version']).ms));
  results.floor = { emptyBun: empty, packagesLoop: packages, pidwardenVersionMs: version };
  row('e. floor: empty Bun binary', `${ms(empty.ms)}, ${empty.peakMiB.toFixed(1)} MiB peak`, '', '', 'reference');
  row('   floor: 4 packages, yargs parse, list loop', `${packages.peakMiB.toFixed(1)} MiB peak`, '', `${QUICK ? 8 : 30} s`, 'reference');
  row('   pidwarden --version', ms(version), '', '', 'reference');
}
