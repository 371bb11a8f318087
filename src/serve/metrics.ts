import type { Counter, Histogram, Registry } from 'prom-client';
import { requireOptional } from '../errors.js';

/**
 * The server's Prometheus metrics, on prom-client. Each server has its own registry rather than prom-client's global
 * one: tests (and embedders) run several servers in one process, and each must count only its own requests.
 */
export class ServerMetrics {
  readonly registry: Registry;
  private readonly requests: Counter<'route' | 'status'>;
  private readonly errors: Counter<'route'>;
  private readonly batchRequests: Histogram;
  private readonly batchSequences: Histogram;
  private readonly latency: Histogram<'route'>;

  constructor(queueDepth: () => number) {
    const { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } = requireOptional<typeof import('prom-client')>('prom-client', "rankwise serve's /metrics");
    this.registry = new Registry();
    const registers = [this.registry];
    this.requests = new Counter({ name: 'rankwise_requests_total', help: 'HTTP requests by route and status code.', labelNames: ['route', 'status'], registers });
    this.errors = new Counter({ name: 'rankwise_request_errors_total', help: 'HTTP requests answered with a 4xx or 5xx status, by route.', labelNames: ['route'], registers });
    new Gauge({
      name: 'rankwise_queue_depth',
      help: 'Requests waiting for or in a model call.',
      registers,
      // Read at scrape time: the batchers own the number, there is nothing to keep in step.
      collect() {
        this.set(queueDepth());
      },
    });
    this.batchRequests = new Histogram({
      name: 'rankwise_batch_requests',
      help: 'Requests combined into one model call.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    this.batchSequences = new Histogram({
      name: 'rankwise_batch_sequences',
      help: 'Query-document pairs scored in one model call.',
      buckets: [1, 8, 32, 64, 128, 256, 512, 1024, 4096],
      registers,
    });
    this.latency = new Histogram({
      name: 'rankwise_request_duration_seconds',
      help: 'Time from receiving a request to sending its reply.',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    // Process and runtime metrics (memory, CPU, event-loop lag, GC) an operator expects next to the server's own.
    collectDefaultMetrics({ register: this.registry });
  }

  recordRequest(route: string, status: number, seconds: number): void {
    this.requests.inc({ route, status: String(status) });
    if (status >= 400) this.errors.inc({ route });
    this.latency.observe({ route }, seconds);
  }

  recordBatch(requests: number, sequences: number): void {
    this.batchRequests.observe(requests);
    this.batchSequences.observe(sequences);
  }

  /** The exposition's media type (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
