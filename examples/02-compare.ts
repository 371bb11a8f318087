/**
 * Example 2 of the source article, done so that the timings mean something: models run one after another, each
 * after a warm-up, and the report says how far their rankings agree.
 * Run: `npx tsx examples/02-compare.ts MODEL_A MODEL_B ...` (default: use-lite and two fixture cross-encoders).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareRankers, createFixtureModel, loadRanker } from '../src/index.js';

let models = process.argv.slice(2);
let scratch: string | undefined;
if (models.length === 0) {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-example-'));
  scratch = dir;
  for (const layers of [2, 4]) {
    await createFixtureModel(join(dir, `fixture-${layers}l`), { kind: 'cross-encoder', layers, hidden: 128, heads: 4, intermediate: 512 });
  }
  models = ['use-lite', join(dir, 'fixture-2l'), join(dir, 'fixture-4l')];
}
const query = 'how do I reset a forgotten password';
const documents = [
  'Click "Forgot password" on the sign-in page and follow the link we email you.',
  'Passwords must be at least twelve characters long.',
  'Our office is closed on public holidays.',
  'If the reset email does not arrive, check your spam folder or contact support.',
  'You can change your display name in the profile settings.',
  'Two-factor login adds a code from your phone to every sign-in.',
];
const rankers = [];
for (const m of models) rankers.push(await loadRanker(m));
const comparison = await compareRankers(rankers, query, documents);
for (const m of comparison.models) {
  console.log(`${m.model}: ${m.ms.toFixed(1)} ms, ${m.docsPerSecond.toFixed(0)} docs/s, order ${m.order.join(' ')}`);
}
for (const a of comparison.agreement) {
  console.log(`${a.a} vs ${a.b}: Kendall tau ${a.kendallTau.toFixed(3)}, top-3 overlap ${a.topOverlap[3]}`);
}
for (const r of rankers) await r.dispose?.();
if (scratch) await rm(scratch, { recursive: true, force: true });
