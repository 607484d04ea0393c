// Seeded randomness for the randomized suites: the same seed replays the same faults and the same fuzz cases.
// The PRNG is the product's own (mulberry32, src/load/shapes.ts), not a second copy.
export { prng as seeded } from '../../src/load/shapes.js';

export const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
