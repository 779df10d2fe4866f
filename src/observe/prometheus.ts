// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text exposition format 0.0.4.

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
/** Prometheus renders +Inf, -Inf and NaN by name; integers as such. */
const num = (n: number) => (Number.isFinite(n) ? String(n) : Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf');

abstract class Metric<S> {
  /** Series by their label values joined with NUL (a byte no label value we emit contains). */
  protected readonly all = new Map<string, { values: readonly string[]; state: S }>();

  constructor(readonly name: string, readonly help: string, readonly type: string, readonly labelNames: readonly string[]) {}

  /** The state of one series (made on first use): callers on a hot path keep it instead of looking it up per call. */
  series(values: readonly string[]): S {
    const id = values.length === 1 ? values[0]! : values.join('\0');
    let s = this.all.get(id);
    if (!s) this.all.set(id, (s = { values: [...values], state: this.fresh() }));
    return s.state;
  }

  protected labels(values: readonly string[], extra?: string): string {
    const parts = this.labelNames.map((n, i) => `${n}="${escapeLabel(values[i]!)}"`);
    if (extra) parts.push(extra);
    return parts.length ? `{${parts.join(',')}}` : '';
  }

  protected abstract fresh(): S;
  protected abstract lines(values: readonly string[], state: S): string[];

  render(): string {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const { values, state } of this.all.values()) out.push(...this.lines(values, state));
    return out.join('\n');
  }
}

export class Counter extends Metric<{ n: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, 'counter', labelNames);
  }
  protected fresh() { return { n: 0 }; }
  inc(values: readonly string[] = [], by = 1): void {
    this.series(values).n += by;
  }
  protected lines(values: readonly string[], s: { n: number }) { return [`${this.name}${this.labels(values)} ${num(s.n)}`]; }
}

export class Gauge extends Metric<{ n: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = [], private readonly read?: () => number) {
    super(name, help, 'gauge', labelNames);
    if (read) this.series([]);
  }
  protected fresh() { return { n: 0 }; }
  add(values: readonly string[], by: number): void {
    this.series(values).n += by;
  }
  set(values: readonly string[], to: number): void {
    this.series(values).n = to;
  }
  protected lines(values: readonly string[], s: { n: number }) {
    return [`${this.name}${this.labels(values)} ${num(this.read ? this.read() : s.n)}`];
  }
}

export interface HistogramState { counts: number[]; sum: number; count: number }

export class Histogram extends Metric<HistogramState> {
  constructor(name: string, help: string, labelNames: readonly string[], private readonly buckets: readonly number[]) {
    super(name, help, 'histogram', labelNames);
  }
  protected fresh(): HistogramState { return { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 }; }
  observe(values: readonly string[], value: number): void {
    this.observeIn(this.series(values), value);
  }
  /** `observe` into a series kept by the caller (see `series`). */
  observeIn(s: HistogramState, value: number): void {
    const b = this.buckets;
    // Stored per bucket, made cumulative when rendered: one increment per observation.
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    if (i < b.length) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  protected lines(values: readonly string[], s: HistogramState) {
    const out: string[] = [];
    let cumulative = 0;
    this.buckets.forEach((le, i) => {
      cumulative += s.counts[i]!;
      out.push(`${this.name}_bucket${this.labels(values, `le="${num(le)}"`)} ${cumulative}`);
    });
    out.push(`${this.name}_bucket${this.labels(values, 'le="+Inf"')} ${s.count}`);
    out.push(`${this.name}_sum${this.labels(values)} ${num(s.sum)}`, `${this.name}_count${this.labels(values)} ${s.count}`);
    return out;
  }
}

/** The metrics of one process, rendered in registration order. */
export class Registry {
  private readonly metrics: Array<{ render(): string }> = [];
  add<M extends { render(): string }>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
  render(): string {
    return `${this.metrics.map((m) => m.render()).join('\n')}\n`;
  }
}

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
