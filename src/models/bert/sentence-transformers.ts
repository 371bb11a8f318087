/** The sentence-transformers module files of a BERT-family encoder folder: read (pooling) and written. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exists } from '../../util/fs.js';
import { InputError } from '../../errors.js';

export type Pooling = 'mean' | 'cls';

/** The pooling sentence-transformers recorded in `1_Pooling/config.json`; mean when there is none. */
export async function recordedPooling(dir: string): Promise<Pooling> {
  const path = join(dir, '1_Pooling', 'config.json');
  if (!(await exists(path))) return 'mean';
  const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  if (config.pooling_mode_cls_token === true) return 'cls';
  if (config.pooling_mode_mean_tokens === true) return 'mean';
  throw new InputError(`${path}: only mean and CLS pooling are supported`);
}

/** modules.json and 1_Pooling/config.json, so that sentence-transformers reads the folder as the same model. */
export async function writeSentenceTransformersFiles(dir: string, dimension: number, pooling: Pooling): Promise<void> {
  await mkdir(join(dir, '1_Pooling'), { recursive: true });
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  await writeFile(join(dir, 'modules.json'), JSON.stringify(modules, null, 2) + '\n');
  const config = {
    word_embedding_dimension: dimension,
    pooling_mode_cls_token: pooling === 'cls',
    pooling_mode_mean_tokens: pooling === 'mean',
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
  };
  await writeFile(join(dir, '1_Pooling', 'config.json'), JSON.stringify(config, null, 2) + '\n');
}
