import { readFileSync } from 'node:fs';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** DOCKERCOINS_VERSION (set by the image build from its tag) wins over package.json, so rolling updates show. */
export const VERSION = process.env.DOCKERCOINS_VERSION?.trim() || packageVersion();
