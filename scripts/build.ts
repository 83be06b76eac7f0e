// `npm run build`: dist/pidwarden, one self-contained binary (bun build --compile).
// One plugin: dockerode loads, at start-up, gRPC and protobufjs (for BuildKit image builds) and
// ssh2 (for ssh:// engines). pidwarden uses neither: it builds no image, and it must run on the
// engine's host anyway to read /proc and the cgroup fs. Stubs that throw if ever called take their
// place: --version went from 67.7 to 54.5 MiB of RSS (measured with /usr/bin/time). The same
// plugin takes yargs's package.json search out (YARGS_SHIM below).
// Also used by the benchmark (scripts/bench.ts) to build its floor binaries the same way, and by
// `npm run release` (scripts/release.ts) for the other hosts: `target` is a Bun compile target
// (bun-linux-arm64, bun-linux-x64-musl); Bun fetches that runtime from the npm registry
// (@oven/bun-linux-aarch64 and so on, ~2 s each, then cached in ~/.bun/install/cache).
import { join, resolve } from 'node:path';
import { buildCommit } from './git-commit.ts';

const ROOT = resolve(import.meta.dir, '..');
// yargs guesses a program's version from the first package.json it finds walking up from the
// directory pidwarden is started in (its platform shim's findUp), and reads it whole: a big
// package.json costs start-up time, and a FIFO of that name blocked `pidwarden --version` forever
// (test/integration/audit.test.ts). pidwarden states its own version, so that search finds nothing.
const YARGS_SHIM = /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/;
const NO_FIND_UP = ['  findUp: escalade,', '  findUp: () => undefined,'] as const;
const STUBBED = /^(ssh2|@grpc\/grpc-js|@grpc\/proto-loader)$/;
const STUB = `
const refuse = () => { throw new Error('not available in pidwarden: no ssh:// engines, no image builds'); };
module.exports = new Proxy({}, { get: (_, key) => (key === '__esModule' ? false : refuse) });
`;

export interface CompileOptions {
  /** a Bun compile target; default: this machine's */
  target?: Bun.Build.CompileTarget;
  /** The benchmark's variants (scripts/bench/monitor-rss.ts): what each of these is worth. */
  smol?: boolean;
  bytecode?: boolean;
}

export async function compile(entry: string, outfile: string, options: CompileOptions = {}): Promise<void> {
  const platform = options.target ? options.target.replace(/^bun-/, '') : `${process.platform}-${process.arch}`;
  const result = await Bun.build({
    entrypoints: [entry],
    // src/version.ts: `--version` names the commit and the platform it was built for.
    define: {
      PIDWARDEN_BUILD_COMMIT: JSON.stringify(buildCommit(ROOT)),
      PIDWARDEN_BUILD_PLATFORM: JSON.stringify(platform),
    },
    compile: {
      outfile,
      ...(options.target ? { target: options.target } : {}),
      // An operator's binary must not change behaviour with the directory it is started from:
      // no .env (it could set PIDWARDEN_*), no bunfig.toml, tsconfig or package.json read at run time.
      autoloadDotenv: false,
      autoloadBunfig: false,
      autoloadTsconfig: false,
      autoloadPackageJson: false,
      // Smaller heap, more frequent GC: a monitor runs for weeks (measured ~1 MiB lower, same CPU).
      execArgv: options.smol === false ? [] : ['--smol'],
    },
    minify: true,
    // Precompiled bytecode: --version starts in 25 ms instead of 73 ms (measured).
    bytecode: options.bytecode !== false,
    format: 'esm',
    sourcemap: 'none',
    plugins: [
      {
        name: 'no-grpc-no-ssh2-no-package-json',
        setup(build) {
          build.onResolve({ filter: STUBBED }, (args) => ({ path: args.path, namespace: 'pidwarden-stub' }));
          build.onLoad({ filter: /.*/, namespace: 'pidwarden-stub' }, () => ({ contents: STUB, loader: 'js' }));
          build.onLoad({ filter: YARGS_SHIM }, async (args) => {
            const text = await Bun.file(args.path).text();
            if (!text.includes(NO_FIND_UP[0])) throw new Error(`${args.path}: "${NO_FIND_UP[0].trim()}" not found; yargs changed, review scripts/build.ts`);
            return { contents: text.replace(NO_FIND_UP[0], NO_FIND_UP[1]), loader: 'js' };
          });
        },
      },
    ],
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`build of ${entry} failed`);
  }
}

if (import.meta.main) {
  // `bun scripts/build.ts [ENTRY OUTFILE] [--no-smol] [--no-bytecode]`: the benchmark builds its
  // floor programs and its variants of pidwarden this way too.
  const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
  const [entry, outfile] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  await compile(entry ?? join(ROOT, 'src', 'main.ts'), outfile ?? join(ROOT, 'dist', 'pidwarden'), {
    smol: !flags.includes('--no-smol'),
    bytecode: !flags.includes('--no-bytecode'),
  });
  console.log(`built ${outfile ?? join('dist', 'pidwarden')}`);
}
