/**
 * Example 7 of the source article: distil a cross-encoder teacher into a bi-encoder student on cybersecurity pairs.
 * The teacher scores every training pair; its logit becomes a target cosine tanh(logit / 2) in [-1, 1]; the student
 * learns it with the cosine-similarity loss. 30 relevant-vs-distractor cases (15 seen, 15 unseen topics) are scored
 * before and after. Without `--teacher`, a teacher is first fine-tuned (BCE) on the data set's own labels.
 * Run: `npx tsx examples/07-distill-bi-encoder.ts [--teacher MODEL] [--student MODEL] [--out DIR] [--epochs N]`
 */
import { join } from 'node:path';
import { CrossEncoder } from 'rankwise';
import { formatPairwiseComparison } from 'rankwise/present';
import { BinaryCrossEntropyLoss, CosineSimilarityLoss, fineTune, logitToSimilarity, resolveTrainingConfig, teacherLogits } from 'rankwise/train';
import { arg, baseModel, readCases, readLines, schedule, scratch } from './shared.js';

const lines = await readLines('cybersecurity/train.jsonl');
const cases = await readCases('cybersecurity/eval.jsonl');
const work = await scratch();

let teacherDir = arg('teacher');
if (!teacherDir) {
  const bce = new BinaryCrossEntropyLoss();
  const { training } = await fineTune({
    base: await baseModel('cross-encoder', 'teacher-base'),
    target: 'cross-encoder',
    loss: bce,
    examples: lines.map(({ line, value }) => bce.parseExample(value, `cybersecurity/train.jsonl:${line}`)),
    config: resolveTrainingConfig({ outputDir: join(work, 'teacher'), ...schedule('teacher-base'), batchSize: 16, maxLength: 256, seed: 7 }),
  });
  teacherDir = training.outputDir;
}
const teacher = await CrossEncoder.load(teacherDir);
const pairs = lines.map(({ value }) => [String(value.query), String(value.document)] as const);
const logits = await teacherLogits(teacher, pairs);
await teacher.dispose();

const cosine = new CosineSimilarityLoss();
const examples = pairs.map(([query, document], i) => cosine.parseExample({ query, document, score: logitToSimilarity(logits[i]) }, `pair ${i}`));
const { training, before, after } = await fineTune({
  base: await baseModel('bi-encoder', 'student'),
  target: 'bi-encoder',
  loss: cosine,
  examples,
  evalCases: cases,
  config: resolveTrainingConfig({
    outputDir: arg('out') ?? join(work, 'student'),
    ...schedule('student'),
    batchSize: 16,
    maxLength: 256,
    seed: 42,
  }),
});
console.log(`teacher ${teacherDir}; ${examples.length} pairs distilled in ${training.steps} steps (${training.seconds.toFixed(1)} s)\n`);
console.log(formatPairwiseComparison(before!, after!));
