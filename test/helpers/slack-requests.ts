// Real signed HTTP requests to a running Bolt receiver, and form bodies shaped like the ones Slack sends
// for slash commands, block actions and view submissions.
import { createHmac } from 'node:crypto';

export const TEST_TEAM = { id: 'T0TEST', domain: 'access-patrol-test' } as const;
export const TEST_USER = { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: TEST_TEAM.id } as const;
export const TEST_CHANNEL = { id: 'C0SEC', name: 'sec-alerts' } as const;
export const TEST_APP_ID = 'A0PATROL';
/** Where Slack would accept `respond()` calls; nock this host in tests. */
export const RESPONSE_URL_BASE = 'https://hooks.slack.com';

export interface SlackUser {
  id: string;
  username: string;
  name: string;
  team_id: string;
}

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignedPostOptions {
  /** Seconds since the epoch; defaults to now. */
  timestamp?: number;
  /** Overrides the computed `x-slack-signature`. */
  signature?: string;
  /** Defaults to `/slack/events`. */
  path?: string;
  contentType?: string;
}

/** POSTs `body` to `${baseUrl}/slack/events` with Slack's signature headers. */
export function signedPost(
  baseUrl: string,
  body: string,
  secret: string,
  opts: SignedPostOptions = {},
): Promise<Response> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return fetch(new URL(opts.path ?? '/slack/events', baseUrl), {
    method: 'POST',
    headers: {
      'content-type': opts.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': opts.signature ?? slackSignature(secret, timestamp, body),
    },
    body,
  });
}

let seq = 0;
const nextId = () => (++seq).toString(36).padStart(4, '0');

export function responseUrl(): string {
  return `${RESPONSE_URL_BASE}/commands/${TEST_TEAM.id}/${Date.now()}${nextId()}/resp${nextId()}`;
}

export function triggerId(): string {
  return `${Date.now()}.${nextId()}.trigger${nextId()}`;
}

function messageTs(): string {
  return `${Math.floor(Date.now() / 1000)}.${nextId().padStart(6, '0')}`;
}

export interface SlashCommandFields {
  token: string;
  team_id: string;
  team_domain: string;
  channel_id: string;
  channel_name: string;
  user_id: string;
  user_name: string;
  command: string;
  text: string;
  response_url: string;
  trigger_id: string;
  api_app_id: string;
}

/** A `/access` slash command, form-encoded like Slack sends it. */
export function slashCommandBody(overrides: Partial<SlashCommandFields> = {}): string {
  const fields: SlashCommandFields = {
    token: 'legacy-verification-token',
    team_id: TEST_TEAM.id,
    team_domain: TEST_TEAM.domain,
    channel_id: TEST_CHANNEL.id,
    channel_name: TEST_CHANNEL.name,
    user_id: TEST_USER.id,
    user_name: TEST_USER.username,
    command: '/access',
    text: '',
    response_url: responseUrl(),
    trigger_id: triggerId(),
    api_app_id: TEST_APP_ID,
    ...overrides,
  };
  return new URLSearchParams(fields as unknown as Record<string, string>).toString();
}

function payloadBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface BlockActionInput {
  actionId: string;
  value?: string;
  blockId?: string;
  user?: Partial<SlackUser>;
  channel?: { id: string; name: string };
  messageTs?: string;
  /** The message the button sits in. */
  message?: { text?: string; blocks?: unknown[] };
  responseUrl?: string;
  triggerId?: string;
  /** Every click has its own; a Slack retry repeats the body, and so the action_ts. */
  actionTs?: string;
}

/** A button click in a channel message (`block_actions`), as `payload=<json>`. */
export function blockActionBody(input: BlockActionInput): string {
  const user = { ...TEST_USER, ...input.user };
  const channel = input.channel ?? TEST_CHANNEL;
  const ts = input.messageTs ?? messageTs();
  const blockId = input.blockId ?? `b-${input.actionId}`;
  return payloadBody({
    type: 'block_actions',
    user,
    api_app_id: TEST_APP_ID,
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: ts, channel_id: channel.id, is_ephemeral: false },
    trigger_id: input.triggerId ?? triggerId(),
    team: { id: user.team_id, domain: TEST_TEAM.domain },
    enterprise: null,
    is_enterprise_install: false,
    channel,
    message: {
      type: 'message',
      user: 'U0BOT',
      bot_id: 'B0BOT',
      ts,
      text: input.message?.text ?? 'finding',
      blocks: input.message?.blocks ?? [],
    },
    state: { values: {} },
    response_url:
      input.responseUrl ?? `${RESPONSE_URL_BASE}/actions/${user.team_id}/${Date.now()}${nextId()}/act`,
    actions: [
      {
        action_id: input.actionId,
        block_id: blockId,
        value: input.value ?? '',
        type: 'button',
        action_ts: input.actionTs ?? `${(Date.now() / 1000).toFixed(6)}`,
      },
    ],
  });
}

/** Block Kit input values: `{ [blockId]: { [actionId]: { type, value | selected_option ... } } }`. */
export type ViewStateValues = Record<string, Record<string, Record<string, unknown>>>;

export interface ViewSubmissionInput {
  callbackId: string;
  privateMetadata?: string;
  values?: ViewStateValues;
  user?: Partial<SlackUser>;
  viewId?: string;
}

/** A modal's submit (`view_submission`), as `payload=<json>`. */
export function viewSubmissionBody(input: ViewSubmissionInput): string {
  const user = { ...TEST_USER, ...input.user };
  return payloadBody({
    type: 'view_submission',
    team: { id: user.team_id, domain: TEST_TEAM.domain },
    user,
    api_app_id: TEST_APP_ID,
    token: 'legacy-verification-token',
    trigger_id: triggerId(),
    enterprise: null,
    is_enterprise_install: false,
    view: {
      id: input.viewId ?? `V0${nextId().toUpperCase()}`,
      team_id: user.team_id,
      type: 'modal',
      callback_id: input.callbackId,
      private_metadata: input.privateMetadata ?? '',
      state: { values: input.values ?? {} },
      hash: `${Date.now()}.hash${nextId()}`,
      app_id: TEST_APP_ID,
      bot_id: 'B0BOT',
      blocks: [],
    },
    response_urls: [],
  });
}
