// The stand-ins refuse what the real services refuse, so a test through them catches the mistake the
// real service would: missing required fields, wrong enums, unknown ids, an analyzer name where an
// ARN is expected, Block Kit over Slack's limits, a trigger_id used twice or late, a response_url used
// up, and an app that answers Slack after its 3-second deadline.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AccessAnalyzerClient,
  GetAnalyzerCommand,
  ListAnalyzersCommand,
  ListFindingsV2Command,
  ResourceNotFoundException,
  UpdateFindingsCommand,
  ValidationException,
} from '@aws-sdk/client-accessanalyzer';
import { WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { LIMITS } from '../../blocks/limits.ts';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { SLACK_BLOCK_KIT } from '../../sandbox/block-kit-rules.ts';
import { DEMO_ANALYZERS, DEMO_FINDING_IDS, demoData } from '../../sandbox/fixtures/demo-org.ts';
import { ACK_DEADLINE_MS, createDispatcher, SUBMIT_TROUBLE } from '../../sandbox/slack/dispatch.ts';
import { RESPONSE_URL_MAX_USES, TRIGGER_TTL_MS } from '../../sandbox/slack/surfaces.ts';
import { type SlackSandbox, startSlackSandbox } from '../../sandbox/slack.ts';
import { caught, quietSlackLogger } from '../helpers/caught.ts';

let aws: AwsSandbox | undefined;
let slack: SlackSandbox | undefined;
let app: Server | undefined;
afterEach(async () => {
  await aws?.close();
  await slack?.close();
  app?.closeAllConnections();
  await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
  aws = slack = app = undefined;
});

const slackError = (err: Error & Record<string, unknown>) => (err.data as { error: string }).error;
const slackMessages = (err: Error & Record<string, unknown>) =>
  (err.data as { response_metadata?: { messages?: string[] } }).response_metadata?.messages ?? [];

async function awsClient() {
  aws = await startAwsSandbox({ data: demoData(new Date('2026-11-29T12:00:00Z')) });
  return new AccessAnalyzerClient({
    region: 'us-east-1',
    endpoint: aws.url,
    credentials: { accessKeyId: 'AKIASANDBOXFIDELITY1', secretAccessKey: 'sandbox' },
    maxAttempts: 1,
  });
}

describe('the AWS stand-in refuses what Access Analyzer refuses', () => {
  it('answers ValidationException for a missing required field', async () => {
    const client = await awsClient();
    const noStatus = await caught(
      client.send(
        new UpdateFindingsCommand({
          analyzerArn: DEMO_ANALYZERS.usExternal,
          ids: [DEMO_FINDING_IDS.kmsCrossAccount],
        } as never),
      ),
    );
    expect(noStatus).toBeInstanceOf(ValidationException);
    expect(noStatus).toMatchObject({ fieldList: [{ name: 'status' }] });
    const noAnalyzer = await caught(client.send(new ListFindingsV2Command({} as never)));
    expect(noAnalyzer).toBeInstanceOf(ValidationException);
    expect(noAnalyzer).toMatchObject({ fieldList: [{ name: 'analyzerArn' }] });
    expect(aws!.data.findings.get(DEMO_FINDING_IDS.kmsCrossAccount)?.status).toBe('ACTIVE');
  });

  it('answers ValidationException for a value outside an enum', async () => {
    const client = await awsClient();
    const resolved = await caught(
      client.send(
        new UpdateFindingsCommand({
          analyzerArn: DEMO_ANALYZERS.usExternal,
          ids: [DEMO_FINDING_IDS.kmsCrossAccount],
          status: 'RESOLVED' as never,
        }),
      ),
    );
    expect(resolved).toBeInstanceOf(ValidationException);
    expect(resolved.message).toMatch(/status/i);
    const badType = await caught(client.send(new ListAnalyzersCommand({ type: 'EXTERNAL' as never })));
    expect(badType).toMatchObject({ name: 'ValidationException', fieldList: [{ name: 'type' }] });
    expect(aws!.data.findings.get(DEMO_FINDING_IDS.kmsCrossAccount)?.status).toBe('ACTIVE');
  });

  it('answers ResourceNotFoundException for a finding id it does not know, or of another analyzer', async () => {
    const client = await awsClient();
    const unknown = await caught(
      client.send(
        new UpdateFindingsCommand({
          analyzerArn: DEMO_ANALYZERS.usExternal,
          ids: ['no-such-finding'],
          status: 'ARCHIVED',
        }),
      ),
    );
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
    expect(unknown).toMatchObject({ resourceId: 'no-such-finding' });
    const otherAnalyzer = await caught(
      client.send(
        new UpdateFindingsCommand({
          analyzerArn: DEMO_ANALYZERS.usExternal,
          ids: [DEMO_FINDING_IDS.unusedRoleCiDeployer], // reported by the unused-access analyzer
          status: 'ARCHIVED',
        }),
      ),
    );
    expect(otherAnalyzer).toBeInstanceOf(ResourceNotFoundException);
    expect(aws!.data.findings.get(DEMO_FINDING_IDS.unusedRoleCiDeployer)?.status).toBe('ACTIVE');
  });

  it('refuses an analyzer name where an ARN is expected, and an ARN where a name is', async () => {
    const client = await awsClient();
    const byName = await caught(client.send(new ListFindingsV2Command({ analyzerArn: 'org-external' })));
    expect(byName).toBeInstanceOf(ValidationException);
    expect(byName).toMatchObject({ fieldList: [{ name: 'analyzerArn' }] });
    const byArn = await caught(
      client.send(new GetAnalyzerCommand({ analyzerName: DEMO_ANALYZERS.usExternal })),
    );
    expect(byArn).toBeInstanceOf(ValidationException);
    await expect(
      client.send(new GetAnalyzerCommand({ analyzerName: 'org-external' })),
    ).resolves.toMatchObject({
      analyzer: { arn: DEMO_ANALYZERS.usExternal },
    });
  });
});

async function slackClient(opts: Parameters<typeof startSlackSandbox>[0] = {}) {
  slack = await startSlackSandbox(opts);
  return new WebClient('xoxb-fidelity', {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
    logger: quietSlackLogger,
  });
}
const modal = (title = 'Archive finding') => ({
  type: 'modal' as const,
  title: { type: 'plain_text' as const, text: title },
  submit: { type: 'plain_text' as const, text: 'Archive' },
  blocks: [
    {
      type: 'input' as const,
      block_id: 'reason',
      label: { type: 'plain_text' as const, text: 'Why?' },
      element: { type: 'plain_text_input' as const, action_id: 'r', min_length: 3 },
    },
  ],
});

describe('the Slack stand-in refuses what Slack refuses', () => {
  it('answers Slack’s errors for missing required fields', async () => {
    const web = await slackClient();
    expect(slackError(await caught(web.chat.postMessage({ text: 'hi' } as never)))).toBe('channel_not_found');
    expect(slackError(await caught(web.chat.postMessage({ channel: '#sec-alerts' } as never)))).toBe(
      'no_text',
    );
    expect(slackError(await caught(web.chat.update({ channel: '#sec-alerts', text: 'x' } as never)))).toBe(
      'message_not_found',
    );
    const noTrigger = await caught(web.views.open({ view: modal() } as never));
    expect(slackError(noTrigger)).toBe('invalid_arguments');
    expect(slackMessages(noTrigger)).toEqual(['[ERROR] missing required field: trigger_id']);
    expect(slackError(await caught(web.views.update({ view: modal() } as never)))).toBe('invalid_arguments');
    expect(
      slackError(await caught(web.chat.postEphemeral({ channel: '#sec-alerts', text: 'x' } as never))),
    ).toBe('user_not_in_channel');
    expect(slack!.messages).toHaveLength(0);
    expect(slack!.ephemerals).toHaveLength(0);
  });

  it('answers invalid_blocks for a wrong enum: a button style, a text object type, an input in a message', async () => {
    const web = await slackClient();
    const cases: unknown[][] = [
      [
        {
          type: 'actions',
          elements: [
            { type: 'button', text: { type: 'plain_text', text: 'Go' }, action_id: 'a', style: 'warning' },
          ],
        },
      ],
      [{ type: 'section', text: { type: 'markdown', text: 'hi' } }],
      [{ type: 'header', text: { type: 'mrkdwn', text: '*hi*' } }],
      [
        {
          type: 'input',
          label: { type: 'plain_text', text: 'x' },
          element: { type: 'plain_text_input', action_id: 'x' },
        },
      ],
    ];
    for (const blocks of cases) {
      const err = await caught(
        web.chat.postMessage({ channel: '#sec-alerts', text: 'x', blocks: blocks as never }),
      );
      expect(slackError(err), JSON.stringify(blocks)).toBe('invalid_blocks');
    }
    expect(slack!.violations.map((v) => v.problems[0])).toEqual([
      'must be one of primary, danger (got warning) [json-pointer:/blocks/0/elements/0/style]',
      'must be one of plain_text, mrkdwn (got markdown) [json-pointer:/blocks/0/text/type]',
      'must be plain_text [json-pointer:/blocks/0/text/type]',
      'unsupported block type input [json-pointer:/blocks/0/type]',
    ]);
    const dialog = await caught(
      web.views.open({
        trigger_id: slack!.surfaces.issueTrigger('U1'),
        view: { ...modal(), type: 'dialog' } as never,
      }),
    );
    expect(slackError(dialog)).toBe('invalid_arguments');
    expect(slack!.messages).toHaveLength(0);
  });

  it('checks rich text against Slack’s schema: element types, required fields, style properties', async () => {
    const web = await slackClient();
    const section = (...elements: unknown[]) => [
      { type: 'rich_text', elements: [{ type: 'rich_text_section', elements }] },
    ];
    // What Slack documents is taken: code-styled and bold text, a user, a link, preformatted text, a list.
    await web.chat.postMessage({
      channel: '#sec-alerts',
      text: 'x',
      blocks: [
        ...section(
          { type: 'text', text: 's3:*', style: { code: true, bold: true } },
          { type: 'user', user_id: 'U0ALICE01' },
          { type: 'link', url: 'https://docs.aws.amazon.com/x', text: 'docs' },
        ),
        {
          type: 'rich_text',
          elements: [{ type: 'rich_text_preformatted', elements: [{ type: 'text', text: '{}' }] }],
        },
        {
          type: 'rich_text',
          elements: [
            {
              type: 'rich_text_list',
              style: 'bullet',
              elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'a' }] }],
            },
          ],
        },
      ] as never,
    });
    const cases: unknown[][] = [
      [{ type: 'rich_text', elements: [{ type: 'rich_text_paragraph', elements: [] }] }],
      section({ type: 'mrkdwn', text: '*x*' }),
      section({ type: 'text' }),
      section({ type: 'text', text: 'x', style: { monospace: true } }),
      section({ type: 'text', text: 'x', style: { code: 'yes' } }),
      section({ type: 'user' }),
      [
        {
          type: 'rich_text',
          elements: [{ type: 'rich_text_preformatted', elements: [{ type: 'user', user_id: 'U1' }] }],
        },
      ],
    ];
    for (const blocks of cases) {
      const err = await caught(
        web.chat.postMessage({ channel: '#sec-alerts', text: 'x', blocks: blocks as never }),
      );
      expect(slackError(err), JSON.stringify(blocks)).toBe('invalid_blocks');
    }
    expect(slack!.violations.map((v) => v.problems[0])).toEqual([
      'must be one of rich_text_section, rich_text_list, rich_text_preformatted, rich_text_quote (got rich_text_paragraph) [json-pointer:/blocks/0/elements/0/type]',
      'unsupported rich text element mrkdwn [json-pointer:/blocks/0/elements/0/elements/0/type]',
      'is required [json-pointer:/blocks/0/elements/0/elements/0/text]',
      'unknown style monospace [json-pointer:/blocks/0/elements/0/elements/0/style/monospace]',
      'must be a boolean [json-pointer:/blocks/0/elements/0/elements/0/style/code]',
      'is required [json-pointer:/blocks/0/elements/0/elements/0/user_id]',
      'unsupported rich text element user [json-pointer:/blocks/0/elements/0/elements/0/type]',
    ]);
    expect(slack!.messages).toHaveLength(1);
  });

  it('answers invalid_blocks for blocks over Slack’s limits, wherever a message is sent', async () => {
    const web = await slackClient({
      users: [{ id: 'U0ALICE01', name: 'alice', email: 'a@example.com', channels: ['#sec-alerts'] }],
    });
    const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
    const tooMany = Array.from({ length: 51 }, (_, i) => section(`block ${i}`));
    const longButton = [
      {
        type: 'actions',
        elements: [{ type: 'button', text: { type: 'plain_text', text: 'x'.repeat(76) }, action_id: 'a' }],
      },
    ];
    expect(
      slackError(
        await caught(web.chat.postMessage({ channel: '#sec-alerts', text: 'x', blocks: tooMany as never })),
      ),
    ).toBe('invalid_blocks');
    expect(
      slackError(
        await caught(
          web.chat.postEphemeral({
            channel: '#sec-alerts',
            user: 'U0ALICE01',
            text: 'x',
            blocks: longButton as never,
          }),
        ),
      ),
    ).toBe('invalid_blocks');
    const url = slack!.responseUrl({ user: 'U0ALICE01', channel: slack!.channelId('#sec-alerts') });
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x', blocks: [section('y'.repeat(3001))] }),
    });
    expect([res.status, await res.text()]).toEqual([400, 'invalid_blocks']);
    const longTitle = await caught(
      web.views.open({
        trigger_id: slack!.surfaces.issueTrigger('U0ALICE01'),
        view: modal('A title of thirty letters'),
      }),
    );
    expect(slackError(longTitle)).toBe('invalid_arguments');
    expect(slackMessages(longTitle)).toContain(
      '[ERROR] must be less than 25 characters (got 25) [json-pointer:/view/title/text]',
    );
    expect(slack!.violations.map((v) => [v.method, v.problems[0]])).toEqual([
      ['chat.postMessage', 'no more than 50 items allowed (got 51) [json-pointer:/blocks]'],
      [
        'chat.postEphemeral',
        'must be less than 76 characters (got 76) [json-pointer:/blocks/0/elements/0/text/text]',
      ],
      ['response_url', 'must be less than 3001 characters (got 3001) [json-pointer:/blocks/0/text/text]'],
    ]);
    expect(slack!.messages).toHaveLength(0);
    expect(slack!.ephemerals).toHaveLength(0);
  });

  it('takes a trigger_id once, and only within 3 seconds', async () => {
    let now = 1_000_000;
    const web = await slackClient({ now: () => now });
    const trigger = slack!.surfaces.issueTrigger('U0ALICE01');
    now += TRIGGER_TTL_MS - 1;
    await expect(web.views.open({ trigger_id: trigger, view: modal() })).resolves.toMatchObject({
      view: { id: expect.stringMatching(/^V/), title: { text: 'Archive finding' } },
    });
    expect(slackError(await caught(web.views.open({ trigger_id: trigger, view: modal() })))).toBe(
      'exchanged_trigger_id',
    );
    const late = slack!.surfaces.issueTrigger('U0ALICE01');
    now += TRIGGER_TTL_MS + 1;
    expect(slackError(await caught(web.views.open({ trigger_id: late, view: modal() })))).toBe(
      'expired_trigger_id',
    );
    expect(slackError(await caught(web.views.open({ trigger_id: '123.456.made-up', view: modal() })))).toBe(
      'invalid_trigger_id',
    );
    expect(TRIGGER_TTL_MS).toBe(3000);
    expect(slack!.surfaces.stack('U0ALICE01')).toHaveLength(1);
  });

  it('updates only an open view, and refuses a stale hash', async () => {
    const web = await slackClient();
    const opened = await web.views.open({ trigger_id: slack!.surfaces.issueTrigger('U1'), view: modal() });
    const id = opened.view!.id!;
    const hash = opened.view!.hash!;
    await web.views.update({ view_id: id, hash, view: modal('Step two') });
    expect(slackError(await caught(web.views.update({ view_id: id, hash, view: modal('Step three') })))).toBe(
      'hash_conflict',
    );
    slack!.surfaces.close('U1');
    expect(slackError(await caught(web.views.update({ view_id: id, view: modal('Too late') })))).toBe(
      'not_found',
    );
  });

  it('takes a response_url five times, then answers used_url', async () => {
    await slackClient({ users: [{ id: 'U0ALICE01', name: 'alice', email: 'a@example.com' }] });
    const url = slack!.responseUrl({ user: 'U0ALICE01', channel: slack!.channelId('#sec-alerts') });
    const post = (text: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });
    for (let i = 1; i <= RESPONSE_URL_MAX_USES; i++) expect((await post(`answer ${i}`)).status).toBe(200);
    const sixth = await post('answer 6');
    expect([sixth.status, await sixth.text()]).toEqual([404, 'used_url']);
    expect(slack!.ephemerals.map((e) => e.text)).toEqual([
      'answer 1',
      'answer 2',
      'answer 3',
      'answer 4',
      'answer 5',
    ]);
  });

  it('knows limits at least as large as the ones the bot keeps to', () => {
    expect(LIMITS.blocksPerMessage).toBeLessThanOrEqual(SLACK_BLOCK_KIT.messageBlocks);
    expect(LIMITS.sectionText).toBeLessThanOrEqual(SLACK_BLOCK_KIT.text);
    expect(LIMITS.sectionFields).toBeLessThanOrEqual(SLACK_BLOCK_KIT.sectionFields);
    expect(LIMITS.sectionFieldText).toBeLessThanOrEqual(SLACK_BLOCK_KIT.sectionField);
    expect(LIMITS.headerText).toBeLessThanOrEqual(SLACK_BLOCK_KIT.headerText);
    expect(LIMITS.contextElements).toBeLessThanOrEqual(SLACK_BLOCK_KIT.contextElements);
    expect(LIMITS.actionsElements).toBeLessThanOrEqual(SLACK_BLOCK_KIT.actionsElements);
    expect(LIMITS.buttonText).toBeLessThanOrEqual(SLACK_BLOCK_KIT.buttonText);
    expect(LIMITS.buttonValue).toBeLessThanOrEqual(SLACK_BLOCK_KIT.buttonValue);
    expect(LIMITS.confirmText).toBeLessThanOrEqual(SLACK_BLOCK_KIT.confirmText);
    expect(LIMITS.confirmTitle).toBeLessThanOrEqual(SLACK_BLOCK_KIT.confirmTitle);
  });
});

/** A stand-in app: records each signed request and answers after `delayMs` with `answer`. */
async function startApp(
  secret: string,
  reply: (req: { body: string; headers: IncomingMessage['headers'] }) => { delayMs?: number; body?: string },
) {
  const seen: { body: string; headers: IncomingMessage['headers']; signatureOk: boolean }[] = [];
  app = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ts = String(req.headers['x-slack-request-timestamp']);
      const expected = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
      seen.push({ body, headers: req.headers, signatureOk: req.headers['x-slack-signature'] === expected });
      const r = reply({ body, headers: req.headers });
      setTimeout(() => {
        if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(r.body ?? '');
      }, r.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => app!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(app!.address() as AddressInfo).port}/slack/events`, seen };
}

// biome-ignore lint/suspicious/noExplicitAny: a payload is read field by field, as JSON
const payloadOf = (body: string): Record<string, any> =>
  JSON.parse(new URLSearchParams(body).get('payload') ?? '{}');

describe('Slack’s side of an interaction', () => {
  const users = [{ id: 'U0ALICE01', name: 'alice', email: 'a@example.com', channels: ['#sec-alerts'] }];

  async function posted() {
    const web = await slackClient({ users });
    const out = await web.chat.postMessage({
      channel: '#sec-alerts',
      text: 'finding',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'Bucket `logs-prod` is public' } },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'Archive' },
              action_id: 'finding_archive',
              value: '{"f":"f-1"}',
            },
          ],
        },
      ],
    });
    return { web, ts: out.ts!, channel: out.channel! };
  }

  it('sends a signed block_actions with the button as the message has it, a trigger_id and a response_url', async () => {
    const { web, ts, channel } = await posted();
    const bot = await startApp('s3cret', () => ({}));
    const d = createDispatcher({
      slack: slack!,
      requestUrl: bot.url,
      signingSecret: 's3cret',
      commands: ['/access'],
    });
    await expect(
      d.click({ user: 'U0ALICE01', channel, messageTs: ts, blockIndex: 1, elementIndex: 0 }),
    ).resolves.toMatchObject({
      delivered: true,
    });
    expect(bot.seen).toHaveLength(1);
    expect(bot.seen[0]!.signatureOk).toBe(true);
    const p = payloadOf(bot.seen[0]!.body);
    expect(p).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ALICE01', name: 'alice' },
      container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
      channel: { id: channel, name: 'sec-alerts' },
      message: { ts, text: 'finding' },
      actions: [
        { action_id: 'finding_archive', value: '{"f":"f-1"}', type: 'button', text: { text: 'Archive' } },
      ],
    });
    // The trigger_id opens one modal; the response_url answers the person.
    await expect(web.views.open({ trigger_id: p.trigger_id, view: modal() })).resolves.toMatchObject({
      ok: true,
    });
    await fetch(p.response_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: 'Archiving…' }),
    });
    expect(slack!.ephemerals).toMatchObject([{ user: 'U0ALICE01', channel, text: 'Archiving…' }]);
    // A place with no button sends nothing.
    await expect(d.click({ user: 'U0ALICE01', channel, messageTs: ts, blockIndex: 0 })).resolves.toEqual({
      delivered: false,
      error: 'no_such_button',
    });
    expect(bot.seen).toHaveLength(1);
  });

  it('shows Slack’s error when the app acks after the deadline: command, button and modal', async () => {
    const { web, ts, channel } = await posted();
    const bot = await startApp('s3cret', () => ({ delayMs: 400 }));
    const d = createDispatcher({
      slack: slack!,
      requestUrl: bot.url,
      signingSecret: 's3cret',
      commands: ['/access'],
      ackDeadlineMs: 150,
    });
    expect(ACK_DEADLINE_MS).toBe(3000);

    await expect(d.command('U0ALICE01', channel, '/access status')).resolves.toEqual({
      delivered: false,
      error: 'operation_timeout',
    });
    expect(slack!.ephemerals.at(-1)).toMatchObject({
      user: 'U0ALICE01',
      from: 'slackbot',
      text: '/access failed with the error "operation_timeout"',
    });

    const click = { user: 'U0ALICE01', channel, messageTs: ts, blockIndex: 1, elementIndex: 0 };
    await d.click(click);
    expect(d.warning(click)).toBe('operation_timeout');

    const opened = await web.views.open({
      trigger_id: slack!.surfaces.issueTrigger('U0ALICE01'),
      view: modal(),
    });
    const result = await d.submit('U0ALICE01', opened.view!.id!, { reason: { r: 'vendor share' } });
    expect(result).toMatchObject({ delivered: false, error: 'operation_timeout' });
    expect(slack!.surfaces.stack('U0ALICE01')).toMatchObject([{ failure: SUBMIT_TROUBLE }]);
    expect(bot.seen).toHaveLength(3);
  });

  it('delivers an answer within the deadline, and applies what a submission’s ack asks for', async () => {
    const { web } = await posted();
    const bot = await startApp('s3cret', ({ body }) => {
      const p = payloadOf(body);
      const reason = (
        p as { view?: { state: { values: Record<string, Record<string, { value: string }>> } } }
      ).view?.state.values.reason?.r?.value;
      return reason === 'nope'
        ? { body: JSON.stringify({ response_action: 'errors', errors: { reason: 'Say why.' } }) }
        : { delayMs: 50 };
    });
    const d = createDispatcher({
      slack: slack!,
      requestUrl: bot.url,
      signingSecret: 's3cret',
      commands: ['/access'],
      ackDeadlineMs: 1000,
    });
    const opened = await web.views.open({
      trigger_id: slack!.surfaces.issueTrigger('U0ALICE01'),
      view: modal(),
    });
    const id = opened.view!.id!;

    // Slack's client checks the form first: nothing reaches the app.
    expect(await d.submit('U0ALICE01', id, { reason: { r: null } })).toMatchObject({
      error: 'invalid_input',
      errors: { reason: 'Please complete this required field.' },
    });
    expect(await d.submit('U0ALICE01', id, { reason: { r: 'ab' } })).toMatchObject({
      errors: { reason: 'Must be at least 3 characters.' },
    });
    expect(bot.seen).toHaveLength(0);

    // The app's errors stay in the modal; an empty ack closes it.
    expect(await d.submit('U0ALICE01', id, { reason: { r: 'nope' } })).toMatchObject({ delivered: true });
    expect(slack!.surfaces.stack('U0ALICE01')[0]!.errors).toEqual({ reason: 'Say why.' });
    expect(await d.submit('U0ALICE01', id, { reason: { r: 'vendor share, SEC-42' } })).toMatchObject({
      delivered: true,
    });
    expect(slack!.surfaces.stack('U0ALICE01')).toHaveLength(0);
    expect(bot.seen).toHaveLength(2);
    expect(payloadOf(bot.seen[1]!.body)).toMatchObject({
      type: 'view_submission',
      user: { id: 'U0ALICE01' },
      view: {
        id,
        callback_id: '',
        state: { values: { reason: { r: { type: 'plain_text_input', value: 'vendor share, SEC-42' } } } },
      },
    });
  });
});
