// Our published image names (ghcr.io/dockercoins/dockercoins/<svc>:v0.1|v0.2|vX.Y.Z) mapped onto the images the
// tests build from this checkout (testImages()), Redis onto the local redis images; anything else is not runnable.
import { execFileSync } from 'node:child_process';
import { SERVICES, type Service, testImages } from '../helpers/images.js';
import { REGISTRY } from './render.js';

const LOCAL_ONLY = ['redis', 'redis:7-alpine', 'node:22-bookworm-slim'];

function present(image: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** The image function of the pod runner: v0.2 is built with the 1 s worker sleep, as the release workflow builds it. */
export function localImages(): (ref: string) => string | null {
  const built = new Map<string, Record<Service, string>>();
  const images = (tag: string) => {
    const args: Record<string, string> = tag === 'v0.2' ? { WORKER_DELAY_DEFAULT_MS: '1000' } : {};
    const key = JSON.stringify(args);
    if (!built.has(key)) built.set(key, testImages(args));
    return built.get(key)!;
  };
  const cache = new Map<string, boolean>();
  return (ref) => {
    const m = new RegExp(`^${REGISTRY.replace(/\./g, '\\.')}/(${SERVICES.join('|')}):(v[\\w.-]+)$`).exec(ref);
    if (m) return images(m[2]!)[m[1] as Service];
    if (!LOCAL_ONLY.includes(ref)) return null;
    if (!cache.has(ref)) cache.set(ref, present(ref));
    return cache.get(ref) ? ref : null;
  };
}
