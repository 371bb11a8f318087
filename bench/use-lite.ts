/**
 * USE Lite runtimes side by side: the npm package's TF.js (WASM) runtime, rankwise's ONNX fp32 and int8 graphs,
 * batch 16 over 96 seeded varied sentences, plus how close int8 stays to fp32 (cosine). Writes
 * bench/results/use-lite.json. Run: `npm run bench:use-lite`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRandom } from '../src/models/random.js';
import { UseLiteEncoder } from '../src/models/use-lite/tfjs-encoder.js';
import { convertUseLite } from '../src/models/use-lite/convert.js';
import { UseLiteOnnxEncoder } from '../src/models/use-lite/encoder.js';
import { cosineSimilarity } from '../src/models/vectors.js';
import { report } from './report.js';

const WORDS = ('the quick brown fox jumps over lazy dog photosynthesis converts light into chemical energy plants stock market fell ' +
  'today how does work quarterly revenue rose strong cloud sales router reset button firmware update vaccine immune system').split(' ');
const random = new SeededRandom(7);
const texts = Array.from({ length: 96 }, () => Array.from({ length: 1 + random.int(40) }, () => WORDS[random.int(WORDS.length)]).join(' '));

const dir = join(await mkdtemp(join(tmpdir(), 'rankwise-bench-use-lite-')), 'model');
try {
  await convertUseLite(dir);
  const [tfjs, fp32, int8] = await Promise.all([UseLiteEncoder.load(), UseLiteOnnxEncoder.load(dir), UseLiteOnnxEncoder.load(dir, { dtype: 'int8' })]);
  const msPerSentence = async (encoder: { encode(t: string[], o: { batchSize: number }): Promise<unknown> }) => {
    await encoder.encode(texts, { batchSize: 16 }); // warm-up
    const start = performance.now();
    await encoder.encode(texts, { batchSize: 16 });
    return (performance.now() - start) / texts.length;
  };
  const rows = [
    { runtime: 'TF.js on WASM (the npm package)', 'ms/sentence': await msPerSentence(tfjs) },
    { runtime: 'rankwise ONNX fp32', 'ms/sentence': await msPerSentence(fp32) },
    { runtime: 'rankwise ONNX int8', 'ms/sentence': await msPerSentence(int8) },
  ];
  const a = await fp32.encode(texts, { normalize: true });
  const b = await int8.encode(texts, { normalize: true });
  const cosines = a.map((v, i) => cosineSimilarity(v, b[i]));
  const int8Cosine = { mean: cosines.reduce((s, c) => s + c, 0) / cosines.length, min: Math.min(...cosines) };
  await report('use-lite', rows, { sentences: texts.length, batchSize: 16, int8Cosine });
  process.stdout.write(`int8 vs fp32 cosine: mean ${int8Cosine.mean.toFixed(5)}, min ${int8Cosine.min.toFixed(5)}\n`);
  for (const encoder of [tfjs, fp32, int8]) await encoder.dispose?.();
} finally {
  await rm(join(dir, '..'), { recursive: true, force: true });
}
