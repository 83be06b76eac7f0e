// A small metric registry: gauges and counters with labels, rendered in the Prometheus text format
// (version 0.0.4, https://prometheus.io/docs/instrumenting/exposition_formats/). Hand-written
// instead of prom-client: the monitor's RSS budget is 64 MiB and every package costs some of it
// (README, Performance); this needs ~100 lines. Rendering is synchronous: a scrape reads the last
// values and never waits on a cycle.

export type MetricType = 'gauge' | 'counter';
export type Labels = Readonly<Record<string, string>>;

export interface MetricDef {
  name: string;
  help: string;
  type: MetricType;
}

interface Family extends MetricDef {
  samples: Map<string, { labels: Labels; value: number }>;
}

export class Registry {
  private readonly families = new Map<string, Family>();

  constructor(defs: readonly MetricDef[]) {
    for (const d of defs) this.families.set(d.name, { ...d, samples: new Map() });
  }

  /** A null or non-finite value removes the sample: an unknown figure is absent, never 0 or NaN. */
  set(name: string, labels: Labels, value: number | null | undefined): void {
    const f = this.family(name);
    const key = labelKey(labels);
    if (value === null || value === undefined || !Number.isFinite(value)) f.samples.delete(key);
    else f.samples.set(key, { labels, value });
  }

  inc(name: string, labels: Labels, by = 1): void {
    const f = this.family(name);
    const key = labelKey(labels);
    const s = f.samples.get(key);
    if (s) s.value += by;
    else f.samples.set(key, { labels, value: by });
  }

  get(name: string, labels: Labels): number | undefined {
    return this.family(name).samples.get(labelKey(labels))?.value;
  }

  /** Drops every sample whose label `key` has one of these values (a container that went away). */
  dropWhere(key: string, keep: (value: string) => boolean): void {
    for (const f of this.families.values()) {
      for (const [k, s] of f.samples) {
        const v = s.labels[key];
        if (v !== undefined && !keep(v)) f.samples.delete(k);
      }
    }
  }

  render(): string {
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
      for (const s of f.samples.values()) out.push(`${f.name}${renderLabels(s.labels)} ${s.value}`);
    }
    return out.join('\n') + '\n';
  }

  private family(name: string): Family {
    const f = this.families.get(name);
    if (!f) throw new Error(`metric ${name} is not defined in this registry`);
    return f;
  }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
}

function renderLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}`;
}

export function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
