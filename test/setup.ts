// Runs before every test file: nock must be active before any Slack or AWS client is built,
// because @slack/web-api captures globalThis.fetch at construction time.
import nock from 'nock';
import { afterEach } from 'vitest';

nock.disableNetConnect();
nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);

afterEach(() => {
  nock.cleanAll();
});
