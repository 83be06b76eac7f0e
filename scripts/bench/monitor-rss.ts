// h. What the monitor's peak RSS (30 healthy containers, --interval 0.25) is made of, row by row:
// the build as shipped, then one variant each with one of its choices undone or one more tried.
// Each row is a monitor run of its own on the same containers; the difference to the first row is
// what that choice is worth.
import { join } from 'node:path';
import { BIN, mib, QUICK, results, ROOT, row } from './common.ts';
import { buildVariant } from './build-variant.ts';
import { monitorFigures } from './monitor-idle.ts';

interface Variant {
  name: string;
  bin?: string;
  extraEnv?: Record<string, string>;
}

export async function benchMonitorRss(label: string, containers: number): Promise<void> {
  const entry = join(ROOT, 'src', 'main.ts');
  const variants: Variant[] = [
    { name: 'as built (--smol, bytecode, no baseline JIT)' },
    // The monitor re-executes itself with BUN_JSC_useBaselineJIT=0 (src/main.ts) unless it is set.
    { name: 'with the baseline JIT (BUN_JSC_useBaselineJIT=1)', extraEnv: { BUN_JSC_useBaselineJIT: '1' } },
    // Not an option: bun:ffi refuses to load without the JIT, and flock and pidfds go with it.
    { name: 'no JIT at all (BUN_JSC_useJIT=0; no bun:ffi)', extraEnv: { BUN_JSC_useJIT: '0' } },
    { name: 'without --smol', bin: buildVariant('pidwarden-no-smol', entry, ['--no-smol']) },
    { name: 'without bytecode', bin: buildVariant('pidwarden-no-bytecode', entry, ['--no-bytecode']) },
  ];
  const seconds = QUICK ? 6 : 20;
  const out: Record<string, unknown> = {};
  let base = NaN;
  for (const v of variants) {
    const f = await monitorFigures({ label, containers, seconds, bin: v.bin ?? BIN, extraEnv: v.extraEnv });
    if (Number.isNaN(base)) base = f.peakMiB;
    out[v.name] = f;
    const delta = f.peakMiB - base;
    row(`h. monitor peak RSS: ${v.name}`, mib(f.peakMiB), '', v.bin || v.extraEnv ? `${delta >= 0 ? '+' : ''}${delta.toFixed(1)} MiB` : `${containers} containers`, `cpu ${f.msPerContainerCycle.toFixed(3)} ms/container-cycle`);
  }
  results.monitorRss = out;
}
