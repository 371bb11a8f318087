/**
 * Example 4 of the source article: fine-tune a cross-encoder on binary labels (12 legal topics x 6 pairs, hard
 * distractors from neighbouring topics), then compare 20 relevant-vs-distractor cases before and after: 10 on topics
 * seen in training, 10 on unseen topics.
 * Run: `npx tsx examples/04-finetune-bce.ts [--base MODEL] [--out DIR] [--epochs N]`
 */
import { join } from 'node:path';
import { formatPairwiseComparison } from 'rankwise/present';
import { BinaryCrossEntropyLoss, fineTune, resolveTrainingConfig } from 'rankwise/train';
import { arg, baseModel, readCases, readLines, schedule, scratch } from './shared.js';

const loss = new BinaryCrossEntropyLoss();
const examples = (await readLines('legal/train.jsonl')).map(({ line, value }) => loss.parseExample(value, `legal/train.jsonl:${line}`));
const { training, before, after } = await fineTune({
  base: await baseModel('cross-encoder'),
  target: 'cross-encoder',
  loss,
  examples,
  evalCases: await readCases('legal/eval.jsonl'),
  config: resolveTrainingConfig({
    outputDir: arg('out') ?? join(await scratch(), 'legal-reranker'),
    ...schedule(),
    batchSize: 16,
    maxLength: 256,
    seed: 42,
  }),
});
console.log(`${examples.length} training pairs, ${training.steps} steps in ${training.seconds.toFixed(1)} s -> ${training.outputDir}\n`);
console.log(formatPairwiseComparison(before!, after!));
