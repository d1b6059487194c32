// Hostile and repeated requests to the real Bolt HTTP receiver, all correctly signed unless said
// otherwise: timestamps in the future, replays and Slack retries, malformed payloads, oversized
// bodies. The bot's own listeners run over real Redis; Slack's response_url is behind nock.
import { request } from 'node:http';
import type { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/schema.ts';
import type { Runtime } from '../../src/runtime.ts';
import { MAX_SLACK_BODY_BYTES } from '../../src/slack/request-guard.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime, wipePrefix } from '../helpers/runtime.ts';
import {
  blockActionBody,
  slackSignature,
  slashCommandBody,
  viewSubmissionBody,
} from '../helpers/slack-requests.ts';
import { type Receiver, recordResponses, type SlackResponse, startReceiver } from '../helpers/triage.ts';

const SECRET = 'guard-signing-secret';
const ADMIN = 'U0ADMIN01';

let config: AppConfig;
let rt: Runtime;
let receiver: Receiver;
let responses: SlackResponse[];
let slack: FakeSlack;

const nowSeconds = () => Math.floor(Date.now() / 1000);
const scanCommand = () => slashCommandBody({ text: 'scan', user_id: ADMIN });
const requested = async () =>
  (await rt.deps.audit.query({ user: ADMIN, last: 100 })).filter((e) => e.outcome === 'requested');
const scanJobs = async () => (await (rt.queues.scan as Queue).getJobs(['waiting', 'delayed'])).length;
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

beforeEach(async () => {
  config = testConfig({ permissions: { admins: { users: [ADMIN] } } });
  slack = fakeSlack();
  responses = recordResponses();
  rt = testRuntime(config);
  receiver = await startReceiver(rt, { secret: SECRET });
});

afterEach(async () => {
  await receiver.stop();
  await rt.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('request timestamps', () => {
  it('refuses a correctly signed request whose timestamp is an hour in the future', async () => {
    const res = await receiver.post(scanCommand(), { timestamp: nowSeconds() + 3600 });

    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(responses).toEqual([]);
    expect(await requested()).toEqual([]);
  });

  it('accepts a clock up to five minutes ahead, as Slack allows', async () => {
    const res = await receiver.post(scanCommand(), { timestamp: nowSeconds() + 4 * 60 });

    expect(res.status).toBe(200);
    await expect.poll(async () => (await requested()).length).toBe(1);
  });
});

describe('the same request twice', () => {
  it('acknowledges a replayed signed request and does nothing else: one audit entry, one reply, one job', async () => {
    const body = scanCommand();
    const ts = nowSeconds();
    const first = await receiver.post(body, { timestamp: ts });
    const replay = await receiver.post(body, { timestamp: ts });

    expect([first.status, replay.status]).toEqual([200, 200]);
    expect(await replay.text()).toBe('');
    await expect.poll(() => responses.length).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(responses).toHaveLength(1);
    expect(String(responses[0]!.body.text)).toMatch(/^Scan of every configured region queued/);
    expect(await requested()).toHaveLength(1);
    expect(await scanJobs()).toBe(1);
  });

  it('acknowledges a Slack retry (new timestamp and signature, same body) and does nothing else', async () => {
    const body = blockActionBody({
      actionId: 'finding_archive',
      value: '{"f":"f-1","a":"x","r":"eu-west-1"}',
    });
    await receiver.post(body);
    await expect.poll(() => responses.length).toBe(1);
    const ts = nowSeconds() + 1;
    const retry = await fetch(`${receiver.baseUrl}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': slackSignature(SECRET, ts, body),
        'x-slack-retry-num': '1',
        'x-slack-retry-reason': 'http_timeout',
      },
      body,
    });

    expect(retry.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    // One answer ("knows no finding f-1") and one refusal in the audit log, not two.
    expect(responses).toHaveLength(1);
    expect(await rt.deps.audit.query({ findingId: 'f-1' })).toHaveLength(1);
  });

  it('handles two different clicks on the same button as two requests', async () => {
    const click = () =>
      blockActionBody({ actionId: 'finding_archive', value: '{"f":"f-2","a":"x","r":"eu-west-1"}' });
    await receiver.post(click());
    await receiver.post(click());

    await expect.poll(() => responses.length).toBe(2);
  });
});

describe('malformed signed payloads', () => {
  const payload = (p: string) => form({ payload: p });

  it.each([
    ['payload=null', payload('null')],
    ['a payload that is not JSON', payload('{"type":')],
    ['a payload that is a list', payload('[1,2]')],
    [
      'block_actions whose actions is not a list',
      payload(
        JSON.stringify({
          type: 'block_actions',
          user: { id: 'U1' },
          trigger_id: 't',
          actions: { action_id: 'x' },
        }),
      ),
    ],
    [
      'block_actions with no user',
      payload(
        JSON.stringify({
          type: 'block_actions',
          trigger_id: 't',
          actions: [{ action_id: 'x', type: 'button' }],
        }),
      ),
    ],
    [
      'a view_submission without a view',
      payload(JSON.stringify({ type: 'view_submission', user: { id: 'U1' } })),
    ],
    [
      'a view_submission whose input value is a number',
      payload(
        JSON.stringify({
          type: 'view_submission',
          user: { id: 'U1' },
          view: {
            id: 'V1',
            callback_id: 'archive_modal',
            private_metadata: '',
            state: { values: { b: { a: { value: 7 } } } },
          },
        }),
      ),
    ],
    ['a slash command without a user', form({ command: '/access', text: 'help', channel_id: 'C1' })],
  ])('answers 400 to %s and keeps serving', async (_name, body) => {
    const res = await receiver.post(body);
    expect(res.status).toBe(400);

    // The receiver is still up and answers the next request.
    const next = await receiver.post(slashCommandBody({ text: 'help' }));
    expect(next.status).toBe(200);
    await expect.poll(() => responses.length).toBe(1);
  });

  it('answers 400 to an event that is not an object', async () => {
    const res = await receiver.post('null', { contentType: 'application/json' });
    expect(res.status).toBe(400);
  });

  it('still answers a view submission and an App Home event of the right shape', async () => {
    slack.users['alice@example.com'] = { id: 'U0ALICE', channels: [] };
    const view = await receiver.post(
      viewSubmissionBody({ callbackId: 'archive_modal', privateMetadata: '{}' }),
    );
    expect(view.status).toBe(200);
    expect(await view.json()).toMatchObject({ response_action: 'errors' });
    const home = await receiver.post(
      JSON.stringify({
        type: 'event_callback',
        team_id: 'T0TEST',
        api_app_id: 'A0PATROL',
        event_id: 'Ev0001',
        event_time: nowSeconds(),
        event: { type: 'app_home_opened', user: 'U0ALICE', channel: 'D0HOME', tab: 'home' },
      }),
      { contentType: 'application/json' },
    );
    expect(home.status).toBe(200);
    await expect.poll(() => slack.byMethod('views.publish').length).toBe(1);
  });
});

describe('body size', () => {
  /** POSTs `size` bytes in 64 KiB chunks without a Content-Length; resolves with the status and bytes sent. */
  function streamed(size: number): Promise<{ status: number; sent: number }> {
    return new Promise((resolve, reject) => {
      const ts = nowSeconds();
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const req = request(`${receiver.baseUrl}/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': 'v0=unknowable-before-the-body-is-read',
          'transfer-encoding': 'chunked',
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, sent });
      });
      req.on('error', (err) => (sent > MAX_SLACK_BODY_BYTES ? resolve({ status: 413, sent }) : reject(err)));
      const write = () => {
        while (sent < size) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', write);
        }
        req.end();
      };
      write();
    });
  }

  it('refuses a 1 MB signed body with 413 without reading it whole', async () => {
    const text = 'x'.repeat(1024 * 1024);
    const declared = await receiver.post(slashCommandBody({ text }));
    expect(declared.status).toBe(413);

    const chunked = await streamed(1024 * 1024);
    expect(chunked.status).toBe(413);
  });

  it('accepts a body near the limit, and the command says it is too long', async () => {
    const text = 'x'.repeat(MAX_SLACK_BODY_BYTES - 2000);
    const res = await receiver.post(slashCommandBody({ text }));
    expect(res.status).toBe(200);
    await expect.poll(() => responses.length).toBe(1);
    expect(JSON.stringify(responses[0]!.body)).toContain('a command is at most 4000 characters');
  });
});
