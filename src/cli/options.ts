import { InvalidArgumentError } from 'commander';
import { availableParallelism } from 'node:os';

/**
 * A thread count: a positive integer no larger than the cores this process may use. More threads than cores only
 * adds contention (`--threads 999` ran 17x slower than 2 threads on a 2-core machine), so it is refused, not clamped.
 */
export function threadCount(name: string, cores: number = availableParallelism()): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} expects a positive integer, got "${value}"`);
    if (n > cores) throw new InvalidArgumentError(`${name} expects at most ${cores} (the number of CPU cores available here), got "${value}"`);
    return n;
  };
}

export function positiveInt(name: string): (value: string) => number {
  // Every command declares --threads with positiveInt('--threads'); they all get the core-count bound here.
  if (name === '--threads') return threadCount(name);
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} expects a positive integer, got "${value}"`);
    return n;
  };
}

/** An integer of at least `min`: e.g. a sequence length, which needs room for the special tokens. */
export function intAtLeast(name: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} expects an integer of at least ${min}, got "${value}"`);
    return n;
  };
}

export function nonNegativeInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} expects a non-negative integer, got "${value}"`);
    return n;
  };
}

export function positiveNumber(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} expects a positive number, got "${value}"`);
    return n;
  };
}

export function nonNegativeNumber(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} expects a non-negative number, got "${value}"`);
    return n;
  };
}

export function finiteNumber(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} expects a number, got "${value}"`);
    return n;
  };
}

export function fraction(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} expects a number from 0 to 1, got "${value}"`);
    return n;
  };
}

export function oneOf<T extends string>(name: string, allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${name} expects one of ${allowed.join(', ')}, got "${value}"`);
    }
    return value as T;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
