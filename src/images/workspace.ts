// A folder that builds and deploys like a clone's root, made from an installed package: compose.yml, stacks/, the
// four ./<service>/Dockerfile of the workshop's loop, the Dockerfile (derived: dist/ as shipped) and dist/ itself.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prebuiltDockerfile } from './dockerfile.js';

/** What the package ships for it (package.json "files" lists each; a unit test keeps them in step). */
export const WORKSPACE_FILES = [
  'compose.yml',
  'stacks',
  'hasher/Dockerfile',
  'rng/Dockerfile',
  'webui/Dockerfile',
  'worker/Dockerfile',
  'src/healthcheck.sh',
  'scripts/debug-image.sh',
  'deploy/monitoring',
  'deploy/tracing',
] as const;

export function prepareWorkspace(root: string, into: string): string {
  mkdirSync(into, { recursive: true });
  for (const f of WORKSPACE_FILES) cpSync(join(root, f), join(into, f), { recursive: true });
  cpSync(join(root, 'dist'), join(into, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });
  writeFileSync(join(into, 'Dockerfile'), prebuiltDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8')));
  return into;
}
