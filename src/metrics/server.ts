// The monitor's HTTP endpoint: GET /metrics and /healthz, on the --metrics-addr given and nowhere
// else. Bun's built-in server (no package: the RSS budget). Each answer is rendered synchronously
// from the last values: a scrape never waits on a cycle, and a cycle never waits on a scrape.
import { UsageError } from '../errors.ts';
import type { MonitorMetrics } from './monitor-metrics.ts';

export interface MetricsAddr {
  host: string;
  port: number;
}

export interface MetricsServer {
  /** The address actually bound (port 0 asks the kernel for a free one). */
  address: string;
  stop(): void;
}

const TEXT_FORMAT = 'text/plain; version=0.0.4; charset=utf-8';

export function startMetricsServer(addr: MetricsAddr, metrics: MonitorMetrics): MetricsServer {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: addr.host,
      port: addr.port,
      reusePort: false,
      fetch(req) {
        const path = new URL(req.url).pathname;
        if (req.method !== 'GET' && req.method !== 'HEAD') return new Response('method not allowed\n', { status: 405, headers: { allow: 'GET, HEAD' } });
        if (path === '/metrics') return new Response(metrics.render(), { headers: { 'content-type': TEXT_FORMAT } });
        if (path === '/healthz') {
          const ok = metrics.healthy(Date.now());
          return new Response(ok ? 'ok\n' : 'monitor loop stalled: no cycle ended in the last 3 intervals\n', { status: ok ? 200 : 503 });
        }
        return new Response('not found: try /metrics or /healthz\n', { status: 404 });
      },
      error() {
        return new Response('internal error\n', { status: 500 });
      },
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new UsageError(`--metrics-addr ${formatAddr(addr)}: cannot listen (${code})`);
  }
  return { address: formatAddr({ host: addr.host, port: server.port ?? addr.port }), stop: () => void server.stop(true) };
}

export function formatAddr(a: MetricsAddr): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** HOST:PORT, [IPv6]:PORT; the host is required: pidwarden never listens on every address by default. */
export function parseMetricsAddr(text: string): MetricsAddr | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s\[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: (m[1] ?? m[2])!, port };
}
