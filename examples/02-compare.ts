/**
 * Example 2 of the source article, done so that the timings mean something: models run one after another, each
 * after a warm-up, and the report says how far their rankings agree.
 * Run: `npx tsx examples/02-compare.ts MODEL_A MODEL_B ...` (default: the built-in cross-encoder in fp32 and int8, and
 * USE Lite as a bi-encoder: all real pretrained weights, offline).
 */
import { builtInModelFolder, CrossEncoder, loadRanker, type Ranker } from 'rankwise';
import { compareRankers } from 'rankwise/eval';

const given = process.argv.slice(2);
const query = 'how do I reset a forgotten password';
const documents = [
  'Click "Forgot password" on the sign-in page and follow the link we email you.',
  'Passwords must be at least twelve characters long.',
  'Our office is closed on public holidays.',
  'If the reset email does not arrive, check your spam folder or contact support.',
  'You can change your display name in the profile settings.',
  'Two-factor login adds a code from your phone to every sign-in.',
];
const rankers: Ranker[] = [];
if (given.length > 0) {
  for (const m of given) rankers.push(await loadRanker(m));
} else {
  const dir = await builtInModelFolder('default');
  rankers.push(await CrossEncoder.load(dir, { name: 'default (fp32)' }));
  rankers.push(await CrossEncoder.load(dir, { name: 'default (int8)', dtype: 'int8' }));
  rankers.push(await loadRanker('use-lite'));
}
const comparison = await compareRankers(rankers, query, documents);
for (const m of comparison.models) {
  console.log(`${m.model}: ${m.ms.toFixed(1)} ms, ${m.docsPerSecond.toFixed(0)} docs/s, order ${m.order.join(' ')}`);
}
for (const a of comparison.agreement) {
  console.log(`${a.a} vs ${a.b}: Kendall tau ${a.kendallTau.toFixed(3)}, top-3 overlap ${a.topOverlap[3]}`);
}
for (const r of rankers) await r.dispose();
