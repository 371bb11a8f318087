/**
 * README.md's guide sections before the CLI reference ("Fine-tuning" and "Measure and adapt on your own documents")
 * run as written: their ```sh blocks (eval beir, adapt, mine) run in order in one fresh folder and print what the
 * README shows after them (the convention and its one masking rule: test/helpers/readme.ts, `runReadmeSection`).
 */
import { test } from 'node:test';
import { runReadmeSection } from './helpers/readme.js';

test('every command block of the README fine-tuning and adapt guides runs in order and prints what the README shows', { timeout: 600_000 }, (t) =>
  runReadmeSection(t, 'Fine-tuning', 'CLI', 4),
);
