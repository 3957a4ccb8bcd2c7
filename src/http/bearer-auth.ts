import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Builds a check for `Authorization: Bearer <token>`. Tokens are compared as SHA-256
 * digests with timingSafeEqual, so neither content nor length leaks through timing.
 */
export function bearerTokenCheck(token: string): (req: IncomingMessage) => boolean {
  if (token === '') throw new RangeError('the admin token must not be empty');
  const expected = digest(token);
  return (req) => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
  };
}
