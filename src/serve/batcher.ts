import type { Encoded } from '../models/tokenizer/index.js';
import { BackendUnavailableError, InputError, OverloadedError } from '../errors.js';

/** What the batcher needs from a cross-encoder: raw logits for already-tokenized sequences, in input order. */
export interface SequenceScorer {
  scoreEncoded(
    sequences: readonly Encoded[],
    options: { activation: 'none'; batchSize: number; maxBatchTokens: number },
  ): Promise<Float32Array>;
}

export interface BatcherOptions {
  /** Padded tokens per model call; also when a waiting batch is full enough to go without waiting out the window. */
  maxBatchTokens: number;
  /** Requests that may wait for the model; one more is refused with {@link QueueFullError}. */
  maxQueue: number;
  /** How long the first waiting request holds the batch open for others. 0 turns batching off. */
  batchWaitMs: number;
  /** false: every request gets a model call of its own (the baseline the benchmark compares against). */
  batching?: boolean;
  /**
   * How long one pooled model call should last (default 100 ms). A call blocks the event loop (onnxruntime-node runs
   * on the main thread), so no request is read, answered or timed out while it runs; the batcher learns the model's
   * time per token from the calls it made and pools no more than fits in this time, within maxBatchTokens (and not
   * under an eighth of it). A single request larger than that still goes in one call.
   */
  targetCallMs?: number;
  /** Called after each model call with how many requests and sequences it served. */
  onBatch?: (requests: number, sequences: number, ms: number) => void;
}

export class QueueFullError extends OverloadedError {
  constructor(maxQueue: number) {
    super(`the server is busy: ${maxQueue} requests are already waiting; retry shortly`);
  }
}

export class ShuttingDownError extends BackendUnavailableError {
  constructor() {
    super('the server is shutting down');
  }
}

interface Job<I, O> {
  items: readonly I[];
  cost: number;
  enqueuedAt: number;
  resolve: (results: O[]) => void;
  reject: (error: Error) => void;
}

export interface Submitted<R> {
  results: Promise<R>;
  /** Takes the request out of the queue if it is still waiting; false once its model call has started. */
  cancel: () => boolean;
}

/** One model call over the pooled items of several requests; returns one result per item, in order. */
export type BatchRun<I, O> = (items: readonly I[], maxBatchCost: number) => Promise<ArrayLike<O>>;

/**
 * Dynamic batching across requests: items from concurrent requests (tokenized pairs, texts to embed) are pooled and
 * run in one model call, and each request gets back exactly its own slice. One model call runs at a time, because
 * onnxruntime already spreads one call over every intra-op thread; a second concurrent call would only contend.
 * While a call runs, new requests pile up and go together in the next one, so under load batches form without
 * any added wait.
 */
export class RequestBatcher<I, O> {
  private readonly queue: Job<I, O>[] = [];
  private queuedCost = 0;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly batching: boolean;
  private readonly targetCallMs: number;
  /** Milliseconds per unit of cost, a moving average over the model calls so far; undefined before the first. */
  private msPerCost: number | undefined;

  /** `cost` measures an item against `options.maxBatchTokens` (tokens, padding excluded). */
  constructor(
    private readonly runBatch: BatchRun<I, O>,
    private readonly cost: (item: I) => number,
    private readonly options: BatcherOptions,
  ) {
    for (const key of ['maxBatchTokens', 'maxQueue'] as const) {
      if (!Number.isInteger(options[key]) || options[key] < 1) throw new InputError(`${key}: expected a positive integer, got ${options[key]}`);
    }
    if (!Number.isFinite(options.batchWaitMs) || options.batchWaitMs < 0) {
      throw new InputError(`batchWaitMs: expected a non-negative number, got ${options.batchWaitMs}`);
    }
    this.batching = options.batching !== false && options.batchWaitMs > 0;
    this.targetCallMs = options.targetCallMs ?? 100;
    if (!Number.isFinite(this.targetCallMs) || this.targetCallMs <= 0) {
      throw new InputError(`targetCallMs: expected a positive number of milliseconds, got ${options.targetCallMs}`);
    }
  }

  /** Requests waiting plus requests in the model call now running. */
  get depth(): number {
    return this.queue.length + this.running;
  }

  submit(items: readonly I[]): Submitted<O[]> {
    if (this.closed) return { results: Promise.reject(new ShuttingDownError()), cancel: () => false };
    if (this.queue.length >= this.options.maxQueue) {
      return { results: Promise.reject(new QueueFullError(this.options.maxQueue)), cancel: () => false };
    }
    if (items.length === 0) return { results: Promise.resolve([]), cancel: () => false };
    let job!: Job<I, O>;
    const results = new Promise<O[]>((resolve, reject) => {
      let cost = 0;
      for (const item of items) cost += this.cost(item);
      job = { items, cost, enqueuedAt: performance.now(), resolve, reject };
    });
    this.queue.push(job);
    this.queuedCost += job.cost;
    this.pump();
    return {
      results,
      cancel: () => {
        const at = this.queue.indexOf(job);
        if (at < 0) return false;
        this.queue.splice(at, 1);
        this.queuedCost -= job.cost;
        return true;
      },
    };
  }

  /** Refuses new work and resolves once every accepted request has been served. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // Waiting requests were accepted, so they are served rather than dropped.
    this.pump(true);
    if (this.depth === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(now = false): void {
    if (this.running > 0 || this.queue.length === 0) {
      if (this.running === 0 && this.queue.length === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
      return;
    }
    if (this.batching && !now && !this.closed) {
      const waited = performance.now() - this.queue[0].enqueuedAt;
      if (waited < this.options.batchWaitMs && this.queuedCost < this.callBudget()) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, this.options.batchWaitMs - waited);
        return;
      }
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const jobs = this.take();
    this.running = jobs.length;
    void this.run(jobs).finally(() => {
      this.running = 0;
      this.pump(this.closed);
    });
  }

  /**
   * The cost one call may pool: maxBatchTokens, or less where the model would take longer than targetCallMs, but
   * never under an eighth of maxBatchTokens: on a machine so loaded that one request outlasts the target, calls of
   * one request each would only add per-call overhead to the wait.
   */
  private callBudget(): number {
    const { maxBatchTokens } = this.options;
    if (this.msPerCost === undefined) return maxBatchTokens;
    return Math.min(maxBatchTokens, Math.max(Math.ceil(maxBatchTokens / 8), Math.floor(this.targetCallMs / this.msPerCost)));
  }

  /** The head of the queue, then as many following requests as fit in the budget (never splitting one). */
  private take(): Job<I, O>[] {
    const jobs = [this.queue.shift()!];
    let cost = jobs[0].cost;
    const budget = this.callBudget();
    while (this.batching && this.queue.length > 0 && cost + this.queue[0].cost <= budget) {
      const next = this.queue.shift()!;
      cost += next.cost;
      jobs.push(next);
    }
    for (const job of jobs) this.queuedCost -= job.cost;
    return jobs;
  }

  private async run(jobs: Job<I, O>[]): Promise<void> {
    const items = jobs.flatMap((job) => job.items);
    const started = performance.now();
    let results: ArrayLike<O>;
    try {
      results = await this.runBatch(items, this.options.maxBatchTokens);
    } catch (error) {
      for (const job of jobs) job.reject(error as Error);
      return;
    }
    const ms = performance.now() - started;
    const cost = jobs.reduce((sum, job) => sum + job.cost, 0);
    // Weighted toward recent calls, so the estimate follows the machine's load.
    this.msPerCost = this.msPerCost === undefined ? ms / cost : 0.7 * this.msPerCost + (0.3 * ms) / cost;
    this.options.onBatch?.(jobs.length, items.length, ms);
    let offset = 0;
    for (const job of jobs) {
      job.resolve(Array.prototype.slice.call(results, offset, offset + job.items.length) as O[]);
      offset += job.items.length;
    }
  }
}

/** The cross-encoder's batcher: tokenized pairs in, raw logits out, bounded by tokens per model call. */
export class ScoreBatcher {
  private readonly batcher: RequestBatcher<Encoded, number>;

  constructor(scorer: SequenceScorer, options: BatcherOptions) {
    this.batcher = new RequestBatcher<Encoded, number>(
      // Only the token budget bounds a model call; scoreEncoded length-sorts, so padding stays small.
      (sequences, maxBatchTokens) => scorer.scoreEncoded(sequences, { activation: 'none', batchSize: sequences.length, maxBatchTokens }),
      (sequence) => sequence.inputIds.length,
      options,
    );
  }

  get depth(): number {
    return this.batcher.depth;
  }

  submit(sequences: readonly Encoded[]): { scores: Promise<Float32Array>; cancel: () => boolean } {
    const { results, cancel } = this.batcher.submit(sequences);
    return { scores: results.then((r) => Float32Array.from(r)), cancel };
  }

  close(): Promise<void> {
    return this.batcher.close();
  }
}
