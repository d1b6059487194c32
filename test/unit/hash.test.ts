import { describe, expect, it } from 'vitest';
import { keys } from '../../src/store/keys.ts';
import { shortHash } from '../../src/util/hash.ts';

// Redis keys and job ids are built from these hashes: a change of output would orphan stored state.
describe('shortHash', () => {
  it('is the start of the SHA-1 of the text (FIPS 180 test vector "abc")', () => {
    expect(shortHash('abc')).toBe('a9993e364706');
    expect(shortHash('abc', 16)).toBe('a9993e364706816a');
    expect(shortHash('abc', 5, 'base64url')).toBe('qZk-N');
  });

  it('names an analyzer in Redis keys by the first 16 hex digits of its ARN hash', () => {
    const k = keys('ap:');
    expect(k.analyzerActive('abc')).toBe('ap:analyzer:a9993e364706816a:active');
    expect(k.scanQueued('s1', 'abc')).toBe('ap:scan:s1:queued:a9993e364706816a');
  });
});
