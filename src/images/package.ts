// Where this DockerCoins is: a clone (the source tree: images are built from it, as the slides do) or an installed
// package (dist/ only: images are built from its bundles, see dockerfile.ts).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root: the nearest folder above this module whose package.json is DockerCoins's (src/ or dist/chunks/). */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'dockercoins') return dir;
    } catch {
      // no package.json here
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`DockerCoins's package.json is not above ${fileURLToPath(from)}`);
    dir = up;
  }
}

/** A clone has the sources and the lockfile the Dockerfile's build stage installs from; a published package has neither. */
export const isSourceTree = (root: string): boolean => existsSync(join(root, 'package-lock.json')) && existsSync(join(root, 'src', 'cli.ts'));
