// Pure parsers for the counters the idle rule compares: block I/O from the cgroup fs and network
// bytes from /proc/<pid>/net/dev. No I/O here (tested on verbatim captures in test/fixtures/reap/).

/**
 * cgroup v1 blkio.throttle.io_service_bytes(_recursive): "8:0 Read 4096" ... "8:0 Total 8192", then
 * a last "Total 8192". Read + Write of every device; the Total lines would count them twice.
 */
export function parseBlkioServiceBytes(text: string): number | null {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const m = /^\s*\d+:\d+\s+(Read|Write)\s+(\d+)\s*$/.exec(line);
    if (m) {
      sum += Number(m[2]);
      seen = true;
    } else if (/^\s*Total\s+\d+\s*$/.test(line)) seen = true; // a cgroup with no I/O yet says "Total 0"
  }
  return seen ? sum : null;
}

/** cgroup v2 io.stat: "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0" per device; empty: none yet. */
export function parseIoStat(text: string): number {
  let sum = 0;
  for (const m of text.matchAll(/\b[rw]bytes=(\d+)/g)) sum += Number(m[1]);
  return sum;
}

/**
 * /proc/<pid>/net/dev of a process in the container's network namespace: bytes received + sent on
 * every interface but loopback (the engine's stats leave lo out too). A --network none container
 * has only lo: 0.
 */
export function parseNetDev(text: string): number | null {
  const lines = text.split('\n');
  if (!/Receive/.test(lines[0] ?? '')) return null;
  let sum = 0;
  for (const line of lines.slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (iface === 'lo' || f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    sum += f[0]! + f[8]!;
  }
  return sum;
}

