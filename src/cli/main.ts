import { Command, CommanderError } from 'commander';
import { ERROR_KINDS, exitCodeOf } from '../errors.js';
import { registerAdapt } from './commands/adapt.js';
import { registerCache } from './commands/cache.js';
import { registerMine } from './commands/mine.js';
import { registerBuildDefaultReranker } from './commands/build-default-reranker.js';
import { registerCompare } from './commands/compare.js';
import { registerConvert } from './commands/convert.js';
import { registerDemo } from './commands/demo.js';
import { registerEval } from './commands/eval.js';
import { registerFixtureModel } from './commands/fixture-model.js';
import { registerIndex } from './commands/index.js';
import { registerFunnel } from './commands/funnel.js';
import { registerRerank } from './commands/rerank.js';
import { registerServe } from './commands/serve.js';
import { registerSimulateQueue } from './commands/simulate-queue.js';
import { registerLateInteraction } from './commands/late-interaction.js';
import { registerProfile } from './commands/profile.js';
import { registerTokenize } from './commands/tokenize.js';
import { registerTrain } from './commands/train.js';

const program = new Command();
program
  .name('rankwise')
  .description('Two-stage retrieval and reranking for Node.js. Without a command, runs the quick-start demo.')
  .showHelpAfterError(false)
  .exitOverride();

registerDemo(program);
registerRerank(program);
registerCompare(program);
registerEval(program);
registerTrain(program);
registerAdapt(program);
registerMine(program);
registerTokenize(program);
registerFixtureModel(program);
registerConvert(program);
registerServe(program);
registerBuildDefaultReranker(program);
registerCache(program);
registerIndex(program);
registerFunnel(program);
registerSimulateQueue(program);
registerLateInteraction(program);
registerProfile(program);

const args = process.argv.slice(2);
try {
  await program.parseAsync(args.length === 0 ? ['demo'] : args, { from: 'user' });
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help text). A usage error (unknown option, a value our
    // parsers refuse) is bad input like any other, so it exits with the same status.
    process.exitCode = error.exitCode === 0 ? 0 : ERROR_KINDS.invalid_input.exitCode;
  } else {
    process.stderr.write(`rankwise: ${(error as Error).message}\n`);
    process.exitCode = exitCodeOf(error);
  }
}
