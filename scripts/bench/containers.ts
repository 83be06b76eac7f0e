// Many small workload containers at once, for the audit and monitor rows: started eight at a time
// (one `docker run` is ~0.3 s of dockerd and runc work here; eight in flight keep both cores busy
// without a queue of timeouts), each with 3 npm exec trees: 10 processes.
import { dockerAsync, processCount, runArgs, waitFor } from './common.ts';

export async function startMany(prefix: string, count: number, label: string): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      await dockerAsync(...runArgs(name, 3, { labels: [label] }));
      await waitFor(async () => (await processCount(name)) >= 10, 60_000, name, 50);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return names;
}
