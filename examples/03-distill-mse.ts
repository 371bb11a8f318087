/**
 * Example 3 of the source article: a student cross-encoder learns a teacher's soft scores with MSE. The teacher is
 * `--teacher MODEL` (its logits are the targets) or, by default, the graded scores in our soft-score data set
 * (in [0, 1], learned through a sigmoid).
 * Run: `npx tsx examples/03-distill-mse.ts [--base MODEL] [--teacher MODEL] [--out DIR] [--epochs N]`
 */
import { join } from 'node:path';
import { CrossEncoder } from 'rankwise';
import { formatPairwiseComparison } from 'rankwise/present';
import { fineTune, MSELoss, resolveTrainingConfig, teacherLogits } from 'rankwise/train';
import { arg, baseModel, readCases, readLines, schedule, scratch } from './shared.js';

const lines = await readLines('soft-scores/train.jsonl');
const teacherName = arg('teacher');
let loss: MSELoss;
let rows = lines.map(({ value }) => value);
if (teacherName) {
  const teacher = await CrossEncoder.load(teacherName);
  const logits = await teacherLogits(teacher, rows.map((r) => [String(r.query), String(r.document)] as const));
  rows = rows.map((r, i) => ({ ...r, score: logits[i] }));
  await teacher.dispose();
  loss = new MSELoss('none');
} else {
  loss = new MSELoss('sigmoid');
}
const examples = rows.map((r, i) => loss.parseExample(r, `soft-scores/train.jsonl:${lines[i].line}`));
const { training, before, after } = await fineTune({
  base: await baseModel('cross-encoder'),
  target: 'cross-encoder',
  loss,
  examples,
  evalCases: await readCases('soft-scores/eval.jsonl'),
  config: resolveTrainingConfig({
    outputDir: arg('out') ?? join(await scratch(), 'soft-score-student'),
    ...schedule(),
    batchSize: 16,
    maxLength: 256,
    seed: 42,
  }),
});
console.log(`teacher: ${teacherName ?? 'graded scores in datasets/soft-scores'}; ${examples.length} pairs, ${training.steps} steps in ${training.seconds.toFixed(1)} s\n`);
console.log(formatPairwiseComparison(before!, after!));
