/**
 * README.md's CLI section runs as written: its ```sh blocks run in order in one fresh folder and print what the
 * README shows after them (the convention and its one masking rule: test/helpers/readme.ts, `runReadmeSection`).
 */
import { test } from 'node:test';
import { runReadmeSection } from './helpers/readme.js';

test('every command block of the README CLI section runs in order and prints what the README shows', { timeout: 600_000 }, (t) =>
  runReadmeSection(t, 'CLI', 'Testing', 10),
);
