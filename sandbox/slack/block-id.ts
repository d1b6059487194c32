// The block_id Slack gives a block that has none of its own.
import { shortHash } from '../../src/util/hash.ts';

/** Slack names a block that has no block_id itself; the name is stable for the message. */
export function derivedBlockId(messageTs: string, index: number): string {
  return shortHash(`${messageTs}/${index}`, 5, 'base64url');
}
