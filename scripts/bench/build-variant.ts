// Builds a program the way dist/pidwarden is built (scripts/build.ts), with some of its options
// off, into .tmp/bench/. In a child process: building in this process would grow it, and a child's
// ru_maxrss includes what it inherited before exec.
import { join } from 'node:path';
import { OUT, ROOT, run } from './common.ts';

export function buildVariant(name: string, entry: string, flags: string[] = []): string {
  const outfile = join(OUT, name);
  const b = run([join(ROOT, 'node_modules', '.bin', 'bun'), join(ROOT, 'scripts', 'build.ts'), entry, outfile, ...flags]);
  if (b.code !== 0) throw new Error(`building ${name} failed: ${b.err}`);
  return outfile;
}
