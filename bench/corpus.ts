import { SeededRandom } from '../src/models/random.js';

const WORDS = (
  'the a search query document rank model score result user system data index vector token encoder cross retrieval ' +
  'relevant answer question hotel cheap price night city room travel booking review customer support account password ' +
  'reset login security network server latency throughput memory cache batch length window overlap first second stage ' +
  'fast slow better worse because while where which about into over under between through during before after again ' +
  'learning training fine tuned label teacher student distillation loss gradient optimizer weight decay warm up epoch'
).split(' ');

/** Seeded pseudo-English documents with word counts drawn uniformly from [minWords, maxWords]. */
export function mixedLengthDocuments(count: number, minWords: number, maxWords: number, seed = 42): string[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, () => {
    const n = minWords + Math.floor(rng.next() * (maxWords - minWords + 1));
    const words = Array.from({ length: n }, () => WORDS[Math.floor(rng.next() * WORDS.length)]);
    for (let i = 11; i < words.length; i += 12) words[i] += '.';
    return words.join(' ');
  });
}
