// The network rule every test runs under: no request leaves the machine, loopback is allowed (the
// sandboxes, Redis, local servers). test/setup.ts applies it; a test that lifts nock puts it back.
import nock from 'nock';

export function onlyLoopback(): void {
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);
}
