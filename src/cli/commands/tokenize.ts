import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { resolveModel } from '../../models/model-folder.js';
import { PairTokenizer } from '../../models/tokenizer/index.js';
import { readJsonLines } from '../input.js';
import { positiveInt, printJson } from '../options.js';
import { encodingJson, formatEncoding } from '../../present/encoding.js';
import { InputError } from '../../errors.js';

export function registerTokenize(program: Command): void {
  program
    .command('tokenize')
    .description('Show the exact [CLS] query [SEP] doc [SEP] encoding a cross-encoder sees (the document alone is truncated)')
    .requiredOption('--model <model>', 'model folder or hub id')
    .option('--query <text>', 'the query')
    .option('--doc <text>', 'the document')
    .option('--pairs <file>', 'JSON Lines of {"query","doc"}: one encoding per line')
    .option('--max-length <n>', 'longest pair in tokens (default: the tokenizer\'s model_max_length)', positiveInt('--max-length'))
    .option('--json', 'print {"input_ids","token_type_ids","attention_mask"}')
    .action(async (opts) => {
      const tokenizer = await loadTokenizer(opts.model);
      const maxLength: number = opts.maxLength ?? tokenizer.modelMaxLength;
      let pairs: Array<{ query: string; doc: string }>;
      if (opts.pairs) {
        if (opts.query !== undefined || opts.doc !== undefined) throw new InputError('give either --pairs or --query/--doc, not both');
        pairs = (await readJsonLines(opts.pairs, '--pairs')).map(({ line, value }) => {
          if (typeof value.query !== 'string') throw new InputError(`${opts.pairs}:${line}: field "query" must be a string`);
          if (typeof value.doc !== 'string') throw new InputError(`${opts.pairs}:${line}: field "doc" must be a string`);
          return { query: value.query, doc: value.doc };
        });
      } else {
        if (typeof opts.query !== 'string') throw new InputError('--query is required (or --pairs FILE)');
        if (typeof opts.doc !== 'string') throw new InputError('--doc is required (or --pairs FILE)');
        pairs = [{ query: opts.query, doc: opts.doc }];
      }
      for (const { query, doc } of pairs) {
        const encoded = tokenizer.encodePair(query, doc, { maxLength });
        if (opts.json) printJson(encodingJson(encoded));
        else process.stdout.write(formatEncoding(tokenizer, encoded) + '\n');
      }
    });
}

async function loadTokenizer(model: string): Promise<PairTokenizer> {
  const isFolder = await stat(model).then((s) => s.isDirectory(), () => false);
  return PairTokenizer.fromFolder(isFolder ? model : (await resolveModel(model)).dir);
}
