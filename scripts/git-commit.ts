// The commit a build is made from, for `--version`: from git at build time, never from the network.
// "unknown" outside a checkout (a source tarball) or without git; "+dirty" when tracked files differ
// from that commit, so a binary built from uncommitted changes never claims to be the commit.
export function buildCommit(root: string): string {
  const git = (...args: string[]) => {
    try {
      const r = Bun.spawnSync(['git', '-C', root, ...args], { stdin: 'ignore', stdout: 'pipe', stderr: 'ignore', env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } });
      return r.exitCode === 0 ? r.stdout.toString().trim() : null;
    } catch {
      return null; // no git on this machine
    }
  };
  const head = git('rev-parse', '--short=12', 'HEAD');
  if (!head) return 'unknown';
  const dirty = git('status', '--porcelain', '--untracked-files=no');
  return dirty ? `${head}+dirty` : head;
}
