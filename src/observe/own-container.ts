// The container pidwarden itself runs in, if any: `reap --all` must never stop it (decide/reap.ts,
// builtInExemption). Read from pidwarden's OWN /proc/self, never --proc-root: that may be the host's
// /proc mounted elsewhere, whose `self` is not us. Two witnesses, either is enough:
//   - /proc/self/cgroup: a segment named after a container (`<id>`, `docker-<id>.scope`,
//     `libpod-<id>.scope`, as layout.ts namesContainer), seen when the cgroup namespace is the
//     host's (cgroup v1's default; Docker 20.10: `0::/docker/<id>`);
//   - /proc/self/mountinfo: the engine bind-mounts the container's own hostname, hosts and
//     resolv.conf files: Docker from `<data-root>/containers/<id>/`, Podman from
//     `<runroot>/overlay-containers/<id>/userdata/` (also .containerenv). That is what is left with
//     a private cgroup namespace (cgroup v2's default), where /proc/self/cgroup reads `0::/`.
// And a third, for the containers the engine lists with an init visible here (a local engine,
// pidwarden with pid: host): the one whose init is in pidwarden's own mount namespace. With Docker's
// --network container:X (compose `network_mode: service:X`) the hostname, hosts and resolv.conf
// files are X's, so on cgroup v2 neither file above names pidwarden's container, and X's ID was
// the only one found. A mount namespace is never shared between containers.
// Every ID found is kept: a Podman pod's ID shows up as a cgroup segment too, and docker:dind
// nests `/docker/<outer>/docker/<inner>`; exempting an ID that is no container of this engine
// costs nothing, missing ours would stop pidwarden.
import { readFile, readlink } from 'node:fs/promises';
import { NAMED_AFTER_A_CONTAINER } from './cgroup.ts';
import { parseMountinfo, parseProcCgroup } from './cgroup-parse.ts';

const ENGINE_FILE = /\/(?:overlay-)?containers\/([0-9a-f]{64})\/(?:userdata\/)?(?:hostname|hosts|resolv\.conf|\.containerenv)$/;

/** Pure: the container IDs in /proc/self/cgroup and /proc/self/mountinfo text, sorted, once each. */
export function parseOwnContainerIds(cgroupText: string, mountinfoText: string): string[] {
  const ids = new Set<string>();
  const cg = parseProcCgroup(cgroupText);
  for (const path of [...cg.v1.values(), ...(cg.v2 === null ? [] : [cg.v2])]) {
    for (const segment of path.split('/')) {
      const m = NAMED_AFTER_A_CONTAINER.exec(segment);
      if (m) ids.add(m[1]!);
    }
  }
  for (const mount of parseMountinfo(mountinfoText)) {
    const m = ENGINE_FILE.exec(mount.root);
    if (m) ids.add(m[1]!);
  }
  return [...ids].sort();
}

let ours: Promise<string[]> | null = null;

/** A file of /proc/self; '' when absent (no such file on this kernel). Any other failure throws. */
async function readSelf(name: string): Promise<string> {
  try {
    return await readFile(`/proc/self/${name}`, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    // not knowing whether a container is ours is no licence to stop it: the pass fails instead
    throw new Error(`cannot read /proc/self/${name} to tell pidwarden's own container (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** The IDs of the container(s) this process runs in; [] on a host. Read once: a process does not change containers. */
export function readOwnContainerIds(): Promise<string[]> {
  ours ??= Promise.all([readSelf('cgroup'), readSelf('mountinfo')]).then(([c, m]) => parseOwnContainerIds(c, m));
  // a failed read is not kept: the next pass reads again
  ours.catch(() => (ours = null));
  return ours;
}

/**
 * The IDs of the containers whose init (its host PID, read through procRoot) is in pidwarden's own
 * mount namespace. A link that cannot be read is no witness either way; an init PID reused by
 * another process of our namespace exempts a container that is gone (a missed stop at most).
 */
export async function containersInOurMountNamespace(inits: readonly { id: string; initPid: number }[], procRoot: string): Promise<string[]> {
  const ours = await readlink('/proc/self/ns/mnt').catch(() => null);
  if (ours === null) return [];
  const found = await Promise.all(
    inits.map(async (c) => {
      if (!Number.isSafeInteger(c.initPid) || c.initPid <= 0) return null;
      return (await readlink(`${procRoot}/${c.initPid}/ns/mnt`).catch(() => null)) === ours ? c.id : null;
    }),
  );
  return found.filter((id): id is string => id !== null);
}
