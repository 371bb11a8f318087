/** Prometheus text exposition (format 0.0.4), written by hand: counters, one gauge and cumulative histograms. */

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${entries.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
}

function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isNaN(v) ? 'NaN' : String(v);
}

class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, { value }] of this.values) lines.push(`${this.name}${key} ${formatValue(value)}`);
    return lines.join('\n');
  }
}

class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    // Stored per bucket, made cumulative when rendered.
    const at = this.buckets.findIndex((b) => value <= b);
    if (at >= 0) s.counts[at]++;
    s.sum += value;
    s.count++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += counts[i];
        lines.push(`${this.name}_bucket${labelText({ ...labels, le: formatValue(bound) })} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${labelText({ ...labels, le: '+Inf' })} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${formatValue(sum)}`);
      lines.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines.join('\n');
  }
}

export class ServerMetrics {
  readonly requests = new Counter('rankwise_requests_total', 'HTTP requests by route and status code.');
  readonly errors = new Counter('rankwise_request_errors_total', 'HTTP requests answered with a 4xx or 5xx status, by route.');
  readonly batchRequests = new Histogram('rankwise_batch_requests', 'Requests combined into one model call.', [1, 2, 4, 8, 16, 32, 64, 128]);
  readonly batchSequences = new Histogram('rankwise_batch_sequences', 'Query-document pairs scored in one model call.', [
    1, 8, 32, 64, 128, 256, 512, 1024, 4096,
  ]);
  readonly latency = new Histogram('rankwise_request_duration_seconds', 'Time from receiving a request to sending its reply.', [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
  ]);

  constructor(private readonly queueDepth: () => number) {}

  recordRequest(route: string, status: number, seconds: number): void {
    const labels = { route, status: String(status) };
    this.requests.inc(labels);
    if (status >= 400) this.errors.inc({ route });
    this.latency.observe(seconds, { route });
  }

  recordBatch(requests: number, sequences: number): void {
    this.batchRequests.observe(requests);
    this.batchSequences.observe(sequences);
  }

  render(): string {
    const gauge = ['# HELP rankwise_queue_depth Requests waiting for or in a model call.', '# TYPE rankwise_queue_depth gauge', `rankwise_queue_depth ${this.queueDepth()}`].join('\n');
    return [this.requests.render(), this.errors.render(), gauge, this.batchRequests.render(), this.batchSequences.render(), this.latency.render()].join('\n') + '\n';
  }
}
