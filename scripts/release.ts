// `npm run release`: dist/release/ with one binary per host, the man page and SHA256SUMS.
//   pidwarden-linux-x64        glibc hosts (Debian, Ubuntu, RHEL ...)
//   pidwarden-linux-x64-musl   Alpine (needs `apk add libstdc++ libgcc`: Bun's musl runtime links them)
//   pidwarden-linux-arm64      Graviton, Raspberry Pi (64-bit OS)
//   pidwarden.1                the man page, made from the same option table as --help
//   SHA256SUMS                 `sha256sum -c SHA256SUMS` format
// Each binary is built by scripts/build.ts (same stubs, bytecode, --smol) with a Bun compile
// target; Bun fetches the runtime of a foreign target from the npm registry once and caches it.
//   bun scripts/release.ts [OUTDIR]      (default: dist/release)
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compile } from './build.ts';
import { manPage } from '../src/cli/man-page.ts';
import { VERSION } from '../src/version.ts';

const ROOT = resolve(import.meta.dir, '..');

export const RELEASE_TARGETS = [
  { file: 'pidwarden-linux-x64', target: 'bun-linux-x64' },
  { file: 'pidwarden-linux-x64-musl', target: 'bun-linux-x64-musl' },
  { file: 'pidwarden-linux-arm64', target: 'bun-linux-arm64' },
] as const satisfies readonly { file: string; target: Bun.Build.CompileTarget }[];

export async function release(outDir: string): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // One after the other: in parallel they race for the same runtime download and 2 cores.
  for (const { file, target } of RELEASE_TARGETS) {
    const t0 = performance.now();
    await compile(join(ROOT, 'src', 'main.ts'), join(outDir, file), { target });
    console.log(`built ${file} (${target}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  writeFileSync(join(outDir, 'pidwarden.1'), manPage(VERSION));
  const sums = readdirSync(outDir)
    .filter((f) => f !== 'SHA256SUMS')
    .sort()
    .map((f) => `${createHash('sha256').update(readFileSync(join(outDir, f))).digest('hex')}  ${f}\n`);
  writeFileSync(join(outDir, 'SHA256SUMS'), sums.join(''));
  console.log(`wrote ${join(outDir, 'SHA256SUMS')}`);
}

if (import.meta.main) {
  await release(resolve(process.argv[2] ?? join(ROOT, 'dist', 'release')));
}
