import { InvalidArgumentError, type Command } from 'commander';
import { readText } from '../../util/jsonl.js';
import {
  ARRIVAL_PROCESSES,
  parseServiceTimes,
  simulateLevels,
  type QueueLevelResult,
} from '../../eval/queue-simulation.js';
import { formatQueueLevels, levelJson } from '../../present/queue-report.js';
import { oneOf, positiveInt, printJson } from '../options.js';
import { InputError } from '../../errors.js';

/** The article's load levels. */
export const DEFAULT_QPS_LEVELS = [5, 10, 20, 30, 40];

export function positiveNumberList(name: string): (value: string) => number[] {
  return (value) => {
    const parts = value.split(',').map((s) => s.trim());
    const numbers = parts.map(Number);
    if (parts.some((p) => p === '') || numbers.some((n) => !Number.isFinite(n) || n <= 0)) {
      throw new InvalidArgumentError(`${name} expects comma-separated positive numbers, got "${value}"`);
    }
    return numbers;
  };
}

function nonNegativeNumberList(name: string): (value: string) => number[] {
  return (value) => parseServiceTimes(`[${value}]`, name);
}

export function registerSimulateQueue(program: Command): void {
  program
    .command('simulate-queue')
    .description('Simulate a single-server FIFO queue fed with measured service times at several request rates')
    .option('--service-ms <file>', 'service times in ms: one number per line, or a JSON array')
    .option('--service-ms-list <list>', 'service times in ms, comma-separated', nonNegativeNumberList('--service-ms-list'))
    .option('--qps <list>', 'request rates, comma-separated', positiveNumberList('--qps'), DEFAULT_QPS_LEVELS)
    .option('--arrivals <process>', 'fixed (one every 1/qps s) or poisson', oneOf('--arrivals', ARRIVAL_PROCESSES), 'fixed')
    .option('--requests <n>', 'requests per level', positiveInt('--requests'), 1000)
    .option('--seed <n>', 'seed for arrivals and service-time draws', Number, 1)
    .option('--name <name>', 'what to call the system in the table', 'service')
    .option('--json', 'print {"levels":[{"qps","utilization","p50","p95","p99","p999","max","mean_wait_ms"}]} (ms)')
    .action(async (opts) => {
      if (!opts.serviceMs === !opts.serviceMsList) throw new InputError('give service times with either --service-ms FILE or --service-ms-list "20.4,30.8,..."');
      if (!Number.isFinite(opts.seed)) throw new InputError(`--seed: expected a number, got ${JSON.stringify(opts.seed)}`);
      const samples: number[] = opts.serviceMs
        ? parseServiceTimes(await readText(opts.serviceMs, '--service-ms'), opts.serviceMs)
        : opts.serviceMsList;
      const levels = simulateLevels(samples, opts.qps, { requests: opts.requests, arrivals: opts.arrivals, seed: opts.seed });
      if (opts.json) {
        printJson({ levels: levels.map(levelJson) });
        return;
      }
      process.stdout.write(
        `QPS simulation: single-server FIFO queue, ${opts.requests} requests per level, ${opts.arrivals} arrivals, ` +
          `${samples.length} service-time samples\nResponse time = queue wait + processing time.\n\n` +
          `${formatQueueLevels([{ name: opts.name, levels }])}\n`,
      );
    });
}
