// Who may change a running service: every admin call (`/admin/*`, the lab's `POST /api/lab`) passes this guard.
// With ADMIN_TOKEN set: `Authorization: Bearer <token>` or 401, from any address (compared in constant time).
// Without: loopback clients only, others 403. Either way a state-changing call from another site (its Origin is not
// this service's own, or Sec-Fetch-Site says cross-site) is refused: a web page cannot drive a learner's services.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const TEXT = 'text/plain; charset=utf-8';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function bearer(req: FastifyRequest): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

/** Sec-Fetch-Site says cross-site, or the Origin names another host than the one this request was sent to. */
function crossSite(req: FastifyRequest): string | null {
  if (req.headers['sec-fetch-site'] === 'cross-site') return 'Sec-Fetch-Site: cross-site';
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? '';
  try {
    // Both read the same way, so a default port (http://x:80 and x) compares equal.
    const from = new URL(origin);
    if (from.host === new URL(`${from.protocol}//${host}`).host) return null;
  } catch {
    // an Origin or Host that is not a URL is not ours
  }
  return `Origin ${JSON.stringify(origin.slice(0, 80))}`;
}

/** An onRequest hook for admin routes (refused before the body is read). `what` names them in the answers ("admin", "the lab"). */
export function adminGuard(token: string, what = 'admin calls') {
  const expected = token ? digest(token) : undefined;
  // Every refusal leaves one warn line (who, what, why): an audit trail of attempts, never the token.
  const refuse = (req: FastifyRequest, why: string) =>
    req.log.warn({ from: req.ip, method: req.method, path: req.url.slice(0, 80) }, `refused ${req.method} ${req.url.slice(0, 80)} from ${req.ip}: ${why}`);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (expected) {
      const given = bearer(req);
      if (!given || !timingSafeEqual(digest(given), expected)) {
        refuse(req, given ? 'wrong bearer token' : 'no bearer token');
        return void reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .type(TEXT)
          .send(`${what} need Authorization: Bearer <ADMIN_TOKEN>${given ? ' (the token given is wrong)' : ''}\n`);
      }
    } else if (!isLoopback(req.socket.remoteAddress)) {
      refuse(req, 'not loopback and no ADMIN_TOKEN set');
      return void reply
        .code(403)
        .type(TEXT)
        .send(`${what} are accepted from this machine (loopback) only; set ADMIN_TOKEN on the service to allow them from elsewhere with a bearer token\n`);
    }
    if (!SAFE.has(req.method)) {
      const why = crossSite(req);
      if (why) {
        refuse(req, `cross-site (${why})`);
        return void reply.code(403).type(TEXT).send(`${what} from another site are refused (${why}); call this service from its own origin\n`);
      }
    }
  };
}
