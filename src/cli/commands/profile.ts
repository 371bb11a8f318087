import type { Command } from 'commander';
import { readAgreementQueries } from '../../eval/late-interaction-agreement.js';
import { profileService } from '../../eval/latency-profile.js';
import { formatProfiles, profileJson } from '../../present/latency-profile-report.js';
import { ARRIVAL_PROCESSES, type ArrivalProcess } from '../../eval/queue-simulation.js';
import { writeLatencyReport } from '../../present/latency-report-svg.js';
import { loadRankerForCommand } from '../load-models.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { createProgress } from '../../util/progress.js';
import { readDocuments } from '../input.js';
import { oneOf, positiveInt, printJson } from '../options.js';
import { DEFAULT_QPS_LEVELS, positiveNumberList } from './simulate-queue.js';
import { InputError } from '../../errors.js';

export function registerProfile(program: Command): void {
  program
    .command('profile')
    .description('Measure a ranking service: service-time percentiles, a QPS simulation, optionally real load')
    .requiredOption('--model <model>', 'a reranker (folder, hub id, "use-lite") or late-interaction:<encoder>')
    .requiredOption('--queries <file>', 'queries: .jsonl ({"query"} per line) or .txt (one per line); used round-robin')
    .requiredOption('--docs <file>', 'documents every request ranks: .txt or .jsonl ({"text"} per line)')
    .option('--samples <n>', 'timed requests', positiveInt('--samples'), 100)
    .option('--qps <list>', 'simulated request rates', positiveNumberList('--qps'), DEFAULT_QPS_LEVELS)
    .option('--arrivals <process>', 'fixed, poisson or both', oneOf('--arrivals', ['fixed', 'poisson', 'both'] as const), 'both')
    .option('--requests <n>', 'simulated requests per level', positiveInt('--requests'), 1000)
    .option('--seed <n>', 'seed for the simulation and the real load', Number, 1)
    .option('--real-load <list>', 'also run real open-loop load at these rates', positiveNumberList('--real-load'))
    .option('--real-requests <n>', 'requests per real-load level', positiveInt('--real-requests'), 100)
    .option('--real-arrivals <process>', 'fixed or poisson', oneOf('--real-arrivals', ARRIVAL_PROCESSES), 'poisson')
    .option('--save-samples <file>', 'write the service times (ms, one per line) for simulate-queue --service-ms')
    .option('--report <file>', 'write an HTML report with inline SVG charts')
    .option('--dtype <dtype>', 'fp32 or int8', oneOf('--dtype', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'inference threads', positiveInt('--threads'))
    .option('--json', 'print {"model","service_ms","simulation":{"fixed":[...],"poisson":[...]},"real_load":[...]}')
    .action(async (opts) => {
      if (!Number.isFinite(opts.seed)) throw new InputError(`--seed: expected a number, got ${JSON.stringify(opts.seed)}`);
      const queries = (await readAgreementQueries(opts.queries, '--queries')).map((q) => q.query);
      const documents = (await readDocuments(opts.docs)).map((d) => d.text);
      const ranker = await loadRankerForCommand(opts.model, { dtype: opts.dtype, threads: opts.threads, quiet: opts.json });
      const arrivals: ArrivalProcess[] = opts.arrivals === 'both' ? ['fixed', 'poisson'] : [opts.arrivals];
      const progress = createProgress({ total: opts.samples, label: 'profiling', enabled: !opts.json });
      let reported = 0;
      try {
        const profile = await profileService(ranker, queries, documents, {
          samples: opts.samples,
          qpsLevels: opts.qps,
          arrivals,
          requests: opts.requests,
          seed: opts.seed,
          realLoad: opts.realLoad ? { qps: opts.realLoad, requests: opts.realRequests, arrivals: opts.realArrivals } : undefined,
          onSample: (done) => {
            progress.tick(done - reported);
            reported = done;
          },
        });
        progress.done();
        if (opts.saveSamples) await writeFileAtomic(opts.saveSamples, `${profile.serviceMs.map((s) => s.toFixed(3)).join('\n')}\n`);
        if (opts.report) {
          await writeLatencyReport(opts.report, {
            title: `Latency profile: ${profile.name}`,
            latency: [{ name: profile.name, summary: profile.service }],
            queues: profile.queues.map((q) => ({ arrivals: q.arrivals, systems: [{ name: profile.name, levels: q.levels }] })),
          });
        }
        if (opts.json) printJson(profileJson(profile));
        else process.stdout.write(`Model: ${profile.name}\n${formatProfiles([profile], opts.requests)}\n${opts.report ? `\nwrote ${opts.report}\n` : ''}`);
      } finally {
        await ranker.dispose();
      }
    });
}
