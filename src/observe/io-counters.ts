// A container's cumulative CPU, block I/O and network counters, for the idle rule. Local engine:
// the cgroup files the engine itself reads (v1 blkio, v2 io.stat; CPU as in stats.ts) and
// /proc/<init pid>/net/dev, which shows the container's network namespace: no API call, no exec.
// Remote engine: one one-shot stats call (cpu_stats, blkio_stats, networks), read with the
// container's network mode (usageFromStats).
import { engineCall, type Engine } from '../engine/client.ts';
import type { UsageSample } from '../decide/idle.ts';
import { readCpuUsageNs, type HostPaths } from './cgroup.ts';
import { cgroupCandidates, containerPaths, parseMountinfo, parseProcCgroup } from './cgroup-parse.ts';
import { readText } from './fs.ts';
import { parseBlkioServiceBytes, parseIoStat, parseNetDev } from './io-counters-parse.ts';

async function blockBytes(initPid: number, containerId: string, paths: HostPaths): Promise<number | null> {
  const [cgText, mountText] = await Promise.all([
    readText(`${paths.procRoot}/${initPid}/cgroup`),
    paths.cgroupRoot ? Promise.resolve('') : readText(`${paths.procRoot}/self/mountinfo`),
  ]);
  if (cgText === null) return null;
  // the container's own cgroup (named after its ID), not its init's leaf: src/observe/cgroup.ts
  for (const c of cgroupCandidates(containerPaths(parseProcCgroup(cgText), containerId), parseMountinfo(mountText ?? ''), 'blkio', paths.cgroupRoot)) {
    if (c.version === 1) {
      const text = await readText(`${c.dir}/blkio.throttle.io_service_bytes_recursive`);
      const n = text === null ? null : parseBlkioServiceBytes(text);
      if (n !== null) return n;
    } else {
      const text = await readText(`${c.dir}/io.stat`);
      if (text !== null) return parseIoStat(text);
    }
  }
  return null;
}

export async function readLocalUsage(initPid: number, containerId: string, paths: HostPaths, nowMs: number): Promise<UsageSample | null> {
  if (!Number.isSafeInteger(initPid) || initPid <= 0) return null;
  const [cpuNs, block, net] = await Promise.all([
    readCpuUsageNs(initPid, containerId, paths),
    blockBytes(initPid, containerId, paths),
    readText(`${paths.procRoot}/${initPid}/net/dev`).then((t) => (t === null ? null : parseNetDev(t))),
  ]);
  if (cpuNs === null || block === null || net === null) return null;
  return { t: nowMs, cpuNs, blockBytes: block, netBytes: net };
}

interface RawUsage {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  blkio_stats?: { io_service_bytes_recursive?: { op?: string; value?: number }[] | null };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
}

/**
 * Pure: the engine's stats document as a sample; null without a CPU counter, and null when the
 * document cannot tell the container's network traffic (`networkMode` is the inspect's
 * HostConfig.NetworkMode). Measured with `GET /containers/{id}/stats?stream=false&one-shot=true`
 * (test/unit/reap-io.test.ts holds the captures): Docker 20.10 omits `networks` for --network
 * host and none (and for container:X of a host-network X); Podman 4.3 gives --network host and
 * none the same placeholder, one entry "network" of zeros. Read as 0 bytes, a host-network server that serves requests all day
 * at a little CPU looked idle and was stopped. So: `none` has no traffic (0 is right); `host` is
 * never known (the traffic is the host's, no engine puts it in the stats); any other mode without
 * `networks` is unknown. Unknown is null: no sample, the idle rule is not applied.
 */
export function usageFromStats(raw: RawUsage, nowMs: number, networkMode: string): UsageSample | null {
  const cpuNs = raw.cpu_stats?.cpu_usage?.total_usage;
  if (typeof cpuNs !== 'number') return null;
  if (networkMode === 'host' || (raw.networks === undefined && networkMode !== 'none')) return null;
  if (podman43Placeholder(raw.networks, networkMode)) return null;
  const blockBytes = (raw.blkio_stats?.io_service_bytes_recursive ?? [])
    .filter((e) => /^(read|write)$/i.test(e.op ?? ''))
    .reduce((sum, e) => sum + (e.value ?? 0), 0);
  const netBytes = Object.values(raw.networks ?? {}).reduce((sum, n) => sum + (n.rx_bytes ?? 0) + (n.tx_bytes ?? 0), 0);
  return { t: nowMs, cpuNs, blockBytes, netBytes };
}

/**
 * Podman 4.3's compat stats always hold one entry named "network", zeros when libpod read no
 * network namespace of the container's own: for `ns:<path>` and for container:X of a host-network
 * X its getContainerNetNS gives none and getContainerNetIO no figures
 * (https://github.com/containers/podman/blob/v4.3.1/libpod/networking_linux.go). A mode that
 * joins another namespace with that entry at zero is unknown, not 0 bytes (Podman 5 names each
 * interface, and Docker none "network").
 */
function podman43Placeholder(networks: RawUsage['networks'], networkMode: string): boolean {
  if (!networkMode.startsWith('container:') && !networkMode.startsWith('ns:')) return false;
  const entries = Object.entries(networks ?? {});
  return entries.length === 1 && entries[0]![0] === 'network' && (entries[0]![1].rx_bytes ?? 0) + (entries[0]![1].tx_bytes ?? 0) === 0;
}

export async function readApiUsage(engine: Engine, id: string, networkMode: string, nowMs: number): Promise<UsageSample | null> {
  const raw = (await engineCall(engine, () => engine.docker.getContainer(id).stats({ stream: false, 'one-shot': true }))) as unknown as RawUsage;
  return usageFromStats(raw, nowMs, networkMode);
}
