// `npm run build`: dist/pidwarden, one self-contained binary (bun build --compile).
// One plugin: dockerode loads, at start-up, gRPC and protobufjs (for BuildKit image builds) and
// ssh2 (for ssh:// engines). pidwarden uses neither: it builds no image, and it must run on the
// engine's host anyway to read /proc and the cgroup fs. Stubs that throw if ever called take their
// place: importing dockerode cost 17 MiB of RSS (measured 49 -> 66 MiB); see the README figures.
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dir, '..');
const STUBBED = /^(ssh2|@grpc\/grpc-js|@grpc\/proto-loader)$/;
const STUB = `
const refuse = () => { throw new Error('not available in pidwarden: no ssh:// engines, no image builds'); };
module.exports = new Proxy({}, { get: (_, key) => (key === '__esModule' ? false : refuse) });
`;

const result = await Bun.build({
  entrypoints: [join(ROOT, 'src', 'main.ts')],
  compile: {
    outfile: join(ROOT, 'dist', 'pidwarden'),
    // An operator's binary must not change behaviour with the directory it is started from:
    // no .env (it could set PIDWARDEN_*), no bunfig.toml, tsconfig or package.json read at run time.
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
    execArgv: process.env.PIDWARDEN_BUILD_SMOL === '0' ? [] : ['--smol'],
  },
  minify: true,
  bytecode: true,
  format: 'esm',
  sourcemap: 'none',
  plugins: [
    {
      name: 'no-grpc-no-ssh2',
      setup(build) {
        build.onResolve({ filter: STUBBED }, (args) => ({ path: args.path, namespace: 'pidwarden-stub' }));
        build.onLoad({ filter: /.*/, namespace: 'pidwarden-stub' }, () => ({ contents: STUB, loader: 'js' }));
      },
    },
  ],
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${join('dist', 'pidwarden')}`);
