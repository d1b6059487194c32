// The Slack sandbox, driven by a real @slack/web-api WebClient.
import { ErrorCode, WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fakeChannelId,
  type SlackSandbox,
  type SlackSandboxOptions,
  startSlackSandbox,
} from '../../sandbox/slack.ts';
import { caught, quietSlackLogger as quiet } from '../helpers/caught.ts';

let sandbox: SlackSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(opts: SlackSandboxOptions = {}) {
  sandbox = await startSlackSandbox(opts);
  const web = new WebClient('xoxb-sandbox-token', {
    slackApiUrl: sandbox.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: quiet,
  });
  return { s: sandbox, web };
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } }) as const;
const metadata = (findingId: string) => ({
  event_type: 'access_patrol_finding',
  event_payload: { finding_id: findingId },
});

describe('Slack sandbox', () => {
  it('answers auth.test and rejects calls without a token', async () => {
    const { s, web } = await start();
    expect(await web.auth.test()).toMatchObject({
      ok: true,
      user_id: expect.any(String),
      team_id: expect.any(String),
    });
    const anon = new WebClient(undefined, { slackApiUrl: s.apiUrl, retryConfig: { retries: 0 } });
    const err = await caught(anon.auth.test());
    expect(err.code).toBe(ErrorCode.PlatformError);
    expect((err.data as { error: string }).error).toBe('invalid_auth');
  });

  it('posts by channel name, maps it to a stable id, and keeps what the WebClient sent', async () => {
    const { s, web } = await start();
    const a = await web.chat.postMessage({
      channel: '#sec-alerts',
      text: 'public bucket',
      blocks: [section('*logs-prod* is public')],
      unfurl_links: false,
      metadata: metadata('f-1'),
    });
    const b = await web.chat.postMessage({ channel: '#sec-alerts', text: 'second' });
    expect(a.channel).toBe(fakeChannelId('#sec-alerts'));
    expect(a.channel).toMatch(/^C[A-Z0-9]{10}$/);
    expect(a.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(b.ts)).toBeGreaterThan(Number(a.ts));
    expect(a.message).toMatchObject({ text: 'public bucket', ts: a.ts });

    // @slack/web-api sends a form body; nested fields arrive JSON-encoded and are decoded.
    const call = s.calls.find((c) => c.method === 'chat.postMessage')!;
    expect(call.body.blocks).toEqual([section('*logs-prod* is public')]);
    expect(call.body.metadata).toEqual(metadata('f-1'));
    expect(call.body.unfurl_links).toBe('false');

    const msgs = s.channelMessages('#sec-alerts');
    expect(msgs.map((m) => m.text)).toEqual(['public bucket', 'second']);
    expect(msgs[0]).toMatchObject({
      channelName: '#sec-alerts',
      metadata: metadata('f-1'),
      unfurl_links: false,
    });
    expect(s.channelMessages(a.channel!)).toHaveLength(2);
  });

  it('updates a message, and answers message_not_found for an unknown ts', async () => {
    const { s, web } = await start();
    const posted = await web.chat.postMessage({
      channel: 'C0SECALERT1',
      text: 'v1',
      blocks: [section('v1')],
    });
    const upd = await web.chat.update({
      channel: posted.channel!,
      ts: posted.ts!,
      text: 'v2',
      blocks: [section('v2')],
    });
    expect(upd).toMatchObject({ ok: true, ts: posted.ts, text: 'v2' });
    const [m] = s.channelMessages('C0SECALERT1');
    expect(m).toMatchObject({ text: 'v2', blocks: [section('v2')], updates: 1 });
    expect(m!.history).toEqual([{ text: 'v1', blocks: [section('v1')] }]);

    const err = await caught(web.chat.update({ channel: 'C0SECALERT1', ts: '1700000000.000001', text: 'x' }));
    expect((err.data as { error: string }).error).toBe('message_not_found');
  });

  it('conversations.history: newest first, top level only, metadata on request, oldest bound', async () => {
    const { web } = await start();
    const first = await web.chat.postMessage({
      channel: '#team-sandbox',
      text: 'summary',
      metadata: metadata('f-a'),
    });
    await web.chat.postMessage({ channel: '#team-sandbox', text: 'reply', thread_ts: first.ts });
    const last = await web.chat.postMessage({
      channel: '#team-sandbox',
      text: 'later',
      metadata: metadata('f-b'),
    });

    const h = await web.conversations.history({
      channel: first.channel!,
      include_all_metadata: true,
      limit: 10,
    });
    expect(h.messages?.map((m) => m.text)).toEqual(['later', 'summary']);
    expect(h.messages?.[0]?.metadata).toEqual(metadata('f-b'));
    expect(h.messages?.[1]).toMatchObject({ reply_count: 1, thread_ts: first.ts });

    const plain = await web.conversations.history({ channel: first.channel! });
    expect(plain.messages?.[0]?.metadata).toBeUndefined();

    const since = await web.conversations.history({ channel: first.channel!, oldest: first.ts! });
    expect(since.messages?.map((m) => m.ts)).toEqual([last.ts]);

    const paged = await web.conversations.history({ channel: first.channel!, limit: 1 });
    expect(paged.has_more).toBe(true);
    const rest = await web.conversations.history({
      channel: first.channel!,
      limit: 1,
      cursor: paged.response_metadata?.next_cursor,
    });
    expect(rest.messages?.map((m) => m.text)).toEqual(['summary']);

    const replies = await web.conversations.replies({
      channel: first.channel!,
      ts: first.ts!,
      include_all_metadata: true,
    });
    expect(replies.messages?.map((m) => m.text)).toEqual(['summary', 'reply']);
    expect(replies.messages?.[0]?.metadata).toEqual(metadata('f-a'));
  });

  it('answers channel_not_found and not_in_channel', async () => {
    const { web } = await start({
      channels: ['#sec-alerts', '#team-payments'],
      notInChannel: ['#team-payments'],
    });
    await expect(web.chat.postMessage({ channel: '#sec-alerts', text: 'ok' })).resolves.toMatchObject({
      ok: true,
    });
    const missing = await caught(web.chat.postMessage({ channel: '#team-gone', text: 'x' }));
    expect(missing.code).toBe(ErrorCode.PlatformError);
    expect((missing.data as { error: string }).error).toBe('channel_not_found');
    const notIn = await caught(web.chat.postMessage({ channel: '#team-payments', text: 'x' }));
    expect((notIn.data as { error: string }).error).toBe('not_in_channel');
  });

  it('rejects Block Kit limit violations with invalid_blocks and records them', async () => {
    const { s, web } = await start();
    const cases: { name: string; blocks: Record<string, unknown>[] }[] = [
      { name: '51 blocks', blocks: Array.from({ length: 51 }, () => section('x')) },
      { name: 'section text', blocks: [section('x'.repeat(3001))] },
      { name: 'header', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] },
      {
        name: 'fields',
        blocks: [
          { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) },
        ],
      },
      {
        name: 'button value',
        blocks: [
          {
            type: 'actions',
            elements: [
              {
                type: 'button',
                text: { type: 'plain_text', text: 'Archive' },
                action_id: 'a',
                value: 'v'.repeat(2001),
              },
            ],
          },
        ],
      },
    ];
    for (const c of cases) {
      const err = await caught(
        // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid blocks
        web.chat.postMessage({ channel: '#sec-alerts', text: c.name, blocks: c.blocks as any }),
      );
      expect((err.data as { error: string }).error, c.name).toBe('invalid_blocks');
    }
    expect(s.violations).toHaveLength(cases.length);
    expect(s.violations[1]?.problems[0]).toContain('/blocks/0/text/text');
    expect(s.channelMessages('#sec-alerts')).toEqual([]);

    // At the limits is fine.
    await web.chat.postMessage({
      channel: '#sec-alerts',
      text: 'max',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(150) } },
        ...Array.from({ length: 49 }, () => section('x'.repeat(3000))),
      ],
    });
  });

  it('rate-limits chat.postMessage per channel with 429 and Retry-After: 1', async () => {
    const { s, web } = await start({ rateLimit: { perChannelPerSecond: 1 } });
    await web.chat.postMessage({ channel: '#sec-alerts', text: 'one' });
    const err = await caught(web.chat.postMessage({ channel: '#sec-alerts', text: 'two' }));
    expect(err.code).toBe(ErrorCode.RateLimitedError);
    expect(err.retryAfter).toBe(1);
    // Another channel has its own budget.
    await expect(web.chat.postMessage({ channel: '#team-data', text: 'one' })).resolves.toMatchObject({
      ok: true,
    });
    expect(s.rateLimited()).toBe(1);
    expect(s.channelMessages('#sec-alerts')).toHaveLength(1);
  });

  it('fails posting to a channel made to fail, and only channel_not_found fails reading it too', async () => {
    const { s, web } = await start();
    const posted = await web.chat.postMessage({ channel: '#team-x', text: 'before' });
    s.failChannel('#team-x', 'is_archived');
    const post = await caught(web.chat.postMessage({ channel: '#team-x', text: 'after' }));
    expect((post.data as { error: string }).error).toBe('is_archived');
    const update = await caught(web.chat.update({ channel: '#team-x', ts: posted.ts!, text: 'changed' }));
    expect((update.data as { error: string }).error).toBe('is_archived');
    await expect(web.conversations.history({ channel: posted.channel! })).resolves.toMatchObject({
      ok: true,
    });
    s.failChannel('#team-x', 'channel_not_found');
    const read = await caught(web.conversations.history({ channel: posted.channel! }));
    expect((read.data as { error: string }).error).toBe('channel_not_found');
    expect(s.channelMessages('#team-x').map((m) => m.text)).toEqual(['before']);
    await expect(web.chat.postMessage({ channel: '#team-y', text: 'ok' })).resolves.toMatchObject({
      ok: true,
    });
  });

  it('reads history and replies by channel id only, and lists the channels to find an id by name', async () => {
    const { web } = await start({ channels: ['#general', '#sec-alerts', '#team-a'] });
    const posted = await web.chat.postMessage({ channel: '#sec-alerts', text: 'hello' });
    const byName = await caught(web.conversations.history({ channel: '#sec-alerts' }));
    expect((byName.data as { error: string }).error).toBe('channel_not_found');
    const thread = await caught(web.conversations.replies({ channel: '#sec-alerts', ts: posted.ts! }));
    expect((thread.data as { error: string }).error).toBe('channel_not_found');
    const first = await web.conversations.list({ limit: 2 });
    const rest = await web.conversations.list({ limit: 2, cursor: first.response_metadata!.next_cursor! });
    expect(rest.response_metadata?.next_cursor).toBe('');
    const listed = [...first.channels!, ...rest.channels!].map((c) => [c.name, c.id]);
    expect(listed).toEqual([
      ['general', fakeChannelId('#general')],
      ['sec-alerts', posted.channel],
      ['team-a', fakeChannelId('#team-a')],
    ]);
    const tooMany = await caught(web.conversations.list({ limit: 1001 }));
    expect((tooMany.data as { error: string }).error).toBe('invalid_limit');
  });

  it('fails the next calls of a method as told: an error, or 429 with Retry-After: 1', async () => {
    const { s, web } = await start();
    s.failNext('chat.postMessage', 1, 'ratelimited');
    s.failNext('chat.postMessage', 1, 'fatal_error');
    const limited = await caught(web.chat.postMessage({ channel: '#sec-alerts', text: 'one' }));
    expect(limited.code).toBe(ErrorCode.RateLimitedError);
    expect(limited.retryAfter).toBe(1);
    const failed = await caught(web.chat.postMessage({ channel: '#sec-alerts', text: 'two' }));
    expect((failed.data as { error: string }).error).toBe('fatal_error');
    await expect(web.chat.postMessage({ channel: '#sec-alerts', text: 'three' })).resolves.toMatchObject({
      ok: true,
    });
    expect(s.rateLimited()).toBe(1);
    expect(s.calls.map((c) => c.error)).toEqual(['ratelimited', 'fatal_error', undefined]);
  });

  it('takes a trigger_id handed out outside the sandbox once, like its own', async () => {
    const { s, web } = await start();
    s.surfaces.adoptTrigger('12345.67.abc', 'U0ALICE');
    const view = {
      type: 'modal' as const,
      title: { type: 'plain_text' as const, text: 'T' },
      blocks: [section('x')],
    };
    await expect(web.views.open({ trigger_id: '12345.67.abc', view })).resolves.toMatchObject({ ok: true });
    s.surfaces.adoptTrigger('12345.67.abc', 'U0ALICE');
    const again = await caught(web.views.open({ trigger_id: '12345.67.abc', view }));
    expect((again.data as { error: string }).error).toBe('exchanged_trigger_id');
    const unknown = await caught(web.views.open({ trigger_id: 'never-issued', view }));
    expect((unknown.data as { error: string }).error).toBe('invalid_trigger_id');
  });
});

describe('people, DMs and the Home tab', () => {
  const users = [
    { id: 'U0DANA001', name: 'dana', email: 'Dana@Example.com', channels: ['#payments', 'C0OPS0001'] },
  ];

  it('finds a user by e-mail (any case), and answers users_not_found for an unknown address', async () => {
    const { web } = await start({ users });
    const found = await web.users.lookupByEmail({ email: 'dana@example.com' });
    expect(found.user).toMatchObject({ id: 'U0DANA001', profile: { email: 'Dana@Example.com' } });
    const err = await caught(web.users.lookupByEmail({ email: 'ghost@example.com' }));
    expect(err.code).toBe(ErrorCode.PlatformError);
    expect((err.data as { error: string }).error).toBe('users_not_found');
    expect((await web.users.info({ user: 'U0DANA001' })).user?.profile?.email).toBe('Dana@Example.com');
    expect(((await caught(web.users.info({ user: 'U0NOBODY1' }))).data as { error: string }).error).toBe(
      'user_not_found',
    );
  });

  it('lists a user’s channels and opens a DM with a stable id', async () => {
    const { s, web } = await start({ users });
    const res = await web.users.conversations({ user: 'U0DANA001', types: 'public_channel,private_channel' });
    expect(res.channels?.map((c) => [c.id, c.name])).toEqual([
      [fakeChannelId('#payments'), 'payments'],
      ['C0OPS0001', 'c0ops0001'],
    ]);
    const dm = await web.conversations.open({ users: 'U0DANA001' });
    expect(dm.channel?.id).toBe(s.dmChannelId('U0DANA001'));
    const posted = await web.chat.postMessage({ channel: dm.channel!.id!, text: 'hello' });
    expect(posted.channel).toBe('D0DANA001');
  });

  it('posts to the DM it opened for a user whose id is short (U0BOB), as Slack posts to any DM it gave out', async () => {
    const { web } = await start({ users: [{ id: 'U0BOB', name: 'bob', email: 'bob@example.com' }] });
    const dm = await web.conversations.open({ users: 'U0BOB' });
    const posted = await web.chat.postMessage({ channel: dm.channel!.id!, text: 'hello' });
    expect(posted.channel).toBe(dm.channel!.id);
    expect(posted.channel).toBe('D0BOB');
  });

  it('publishes a Home view of up to 100 blocks and rejects more, or a non-home view', async () => {
    const { s, web } = await start({ users });
    const section = { type: 'section', text: { type: 'mrkdwn', text: 'x' } };
    await web.views.publish({
      user_id: 'U0DANA001',
      view: { type: 'home', blocks: Array(100).fill(section) },
    });
    expect(s.homes.U0DANA001).toHaveLength(1);
    const tooMany = await caught(
      web.views.publish({ user_id: 'U0DANA001', view: { type: 'home', blocks: Array(101).fill(section) } }),
    );
    expect((tooMany.data as { error: string }).error).toBe('invalid_blocks');
    const modal = await caught(
      web.views.publish({ user_id: 'U0DANA001', view: { type: 'modal', blocks: [section] } as never }),
    );
    expect((modal.data as { error: string }).error).toBe('invalid_arguments');
    expect(s.homes.U0DANA001).toHaveLength(1);
  });
});
