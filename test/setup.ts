// Runs before every test file: nock must be active before any Slack or AWS client is built,
// because @slack/web-api captures globalThis.fetch at construction time.
import nock from 'nock';
import { afterEach } from 'vitest';
import { onlyLoopback } from './helpers/net.ts';

onlyLoopback();

afterEach(() => {
  nock.cleanAll();
});
