// Short, stable names for long strings (analyzer ARNs, channel names, message JSON) in Redis keys,
// job ids and fingerprints. Not a security check: SHA-1 is used because its output never changes.
import { createHash } from 'node:crypto';

/**
 * The first `length` characters of the SHA-1 of `s` (hex unless told otherwise). Every Redis key
 * and job id built from it depends on this exact output: keep it as it is.
 */
export function shortHash(s: string, length = 12, encoding: 'hex' | 'base64url' = 'hex'): string {
  return createHash('sha1').update(s).digest(encoding).slice(0, length);
}
