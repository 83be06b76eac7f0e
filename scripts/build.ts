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
// The same shim reads process.stdout.columns when it is loaded, and in Bun the first touch of
// process.stdout builds the stream (node:fs's WriteStream), for a width that only help text uses
// (pidwarden writes through fd 1 itself). A getter reads it then. With the Segmenter below: an
// audit against an unreachable engine 38.6 -> 35.3 ms of CPU (medians of 40 runs).
const LAZY_COLUMNS = [
  "    stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null",
  "    get stdColumns() { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null; }",
] as const;
// string-width (under yargs's help layout) makes an Intl.Segmenter when it is loaded (ICU's
// rules); only help text measures widths. Made on first use instead.
const STRING_WIDTH = /[\\/]string-width[\\/]index\.js$/;
const LAZY_SEGMENTER = [
  'const segmenter = new Intl.Segmenter();',
  'let madeSegmenter; const segmenter = { segment: (text) => (madeSegmenter ??= new Intl.Segmenter()).segment(text) };',
] as const;
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
          build.onLoad({ filter: YARGS_SHIM }, async (args) => ({ contents: patched(args.path, await Bun.file(args.path).text(), [NO_FIND_UP, LAZY_COLUMNS]), loader: 'js' }));
          build.onLoad({ filter: STRING_WIDTH }, async (args) => ({ contents: patched(args.path, await Bun.file(args.path).text(), [LAZY_SEGMENTER]), loader: 'js' }));
        },
      },
    ],
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`build of ${entry} failed`);
  }
}

/** Each [from, to] replaced once; a `from` missing means the package changed: the build stops. */
function patched(path: string, text: string, edits: ReadonlyArray<readonly [string, string]>): string {
  let out = text;
  for (const [from, to] of edits) {
    if (!out.includes(from)) throw new Error(`${path}: "${from.trim()}" not found; the package changed, review scripts/build.ts`);
    out = out.replace(from, to);
  }
  return out;
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
