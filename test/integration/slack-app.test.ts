// The real Bolt HTTP receiver on a free port, reached with real signed requests: signature and
// timestamp checks, the health routes and shutdown. Then Socket Mode against a local WebSocket server.
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { createSlackApp, type SlackApp } from '../../src/slack/app.ts';
import { freePort } from '../helpers/ports.ts';
import {
  blockActionBody,
  signedPost,
  slackSignature,
  slashCommandBody,
  TEST_APP_ID,
  viewSubmissionBody,
} from '../helpers/slack-requests.ts';

const SECRET = 'integration-signing-secret';

interface Seen {
  commands: { text: string; user: string }[];
  actions: { actionId: string; value: string | undefined }[];
  views: { callbackId: string; privateMetadata: string }[];
}

let slack: SlackApp;
let baseUrl: string;
let ready: boolean;
let seen: Seen;

describe('Slack HTTP receiver', () => {
  beforeEach(async () => {
    ready = true;
    seen = { commands: [], actions: [], views: [] };
    slack = createSlackApp({
      receiver: { mode: 'http', signingSecret: SECRET },
      botToken: 'xoxb-integration-test',
      slackApiUrl: 'https://slack.com/api/',
      port: 0,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      ready: async () => ready,
      botId: 'B0BOT',
      botUserId: 'U0BOT',
      register: (app) => {
        app.command('/access', async ({ ack, command }) => {
          seen.commands.push({ text: command.text, user: command.user_id });
          await ack({ response_type: 'ephemeral', text: 'on it' });
        });
        app.action('approve', async ({ ack, action }) => {
          seen.actions.push({
            actionId: (action as { action_id: string }).action_id,
            value: (action as { value?: string }).value,
          });
          await ack();
        });
        app.view('archive_reason', async ({ ack, view }) => {
          seen.views.push({ callbackId: view.callback_id, privateMetadata: view.private_metadata });
          await ack();
        });
      },
    });
    const { port } = await slack.start();
    expect(port).toBeGreaterThan(0);
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterEach(async () => {
    await slack.stop();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('runs the /access listener for a correctly signed slash command and returns its ack body', async () => {
    const res = await signedPost(baseUrl, slashCommandBody({ text: 'list' }), SECRET);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ response_type: 'ephemeral', text: 'on it' });
    expect(seen.commands).toEqual([{ text: 'list', user: 'U0ALICE' }]);
  });

  it('answers 401 to a bad signature and never runs the listener', async () => {
    const body = slashCommandBody();
    const res = await signedPost(baseUrl, body, SECRET, {
      signature: slackSignature('some-other-secret', Math.floor(Date.now() / 1000), body),
    });

    expect(res.status).toBe(401);
    expect(seen.commands).toEqual([]);
  });

  it('answers 401 to a correctly signed request whose timestamp is more than 5 minutes old', async () => {
    const res = await signedPost(baseUrl, slashCommandBody(), SECRET, {
      timestamp: Math.floor(Date.now() / 1000) - 5 * 60 - 10,
    });

    expect(res.status).toBe(401);
    expect(seen.commands).toEqual([]);
  });

  it('answers 401 to a body changed after signing', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const signature = slackSignature(SECRET, ts, slashCommandBody({ text: 'list' }));
    const res = await signedPost(baseUrl, slashCommandBody({ text: 'grant admin' }), SECRET, {
      timestamp: ts,
      signature,
    });

    expect(res.status).toBe(401);
    expect(seen.commands).toEqual([]);
  });

  it('routes signed block actions and view submissions to their listeners', async () => {
    const action = await signedPost(baseUrl, blockActionBody({ actionId: 'approve', value: 'f-1' }), SECRET);
    const view = await signedPost(
      baseUrl,
      viewSubmissionBody({
        callbackId: 'archive_reason',
        privateMetadata: '{"findingId":"f-1"}',
        values: { reason: { reason_input: { type: 'plain_text_input', value: 'expected' } } },
      }),
      SECRET,
    );

    expect([action.status, view.status]).toEqual([200, 200]);
    expect(seen.actions).toEqual([{ actionId: 'approve', value: 'f-1' }]);
    expect(seen.views).toEqual([{ callbackId: 'archive_reason', privateMetadata: '{"findingId":"f-1"}' }]);
  });

  it('answers /healthz with 200 ok', async () => {
    const res = await fetch(`${baseUrl}/healthz`);

    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  it('answers /readyz with 503 and a reason while not ready, and 200 once ready', async () => {
    ready = false;
    const down = await fetch(`${baseUrl}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.text()).toMatch(/^not ready: /);

    ready = true;
    const up = await fetch(`${baseUrl}/readyz`);
    expect(up.status).toBe(200);
    expect(await up.text()).toBe('ready');
  });

  it('closes the port on stop()', async () => {
    await slack.stop();

    await expect(fetch(`${baseUrl}/healthz`)).rejects.toThrow();
  });
});

describe('Slack app without a known bot identity', () => {
  it('checks the token with auth.test when it starts', async () => {
    const authTest = nock('https://slack.com')
      .post('/api/auth.test')
      .reply(200, { ok: true, user_id: 'U0BOT', bot_id: 'B0BOT', team_id: 'T0TEST' });
    const other = createSlackApp({
      receiver: { mode: 'http', signingSecret: SECRET },
      botToken: 'xoxb-integration-test',
      slackApiUrl: 'https://slack.com/api/',
      port: 0,
      logger: pino({ level: 'silent' }),
      ready: async () => true,
      register: () => {},
    });
    try {
      await other.start();
      expect(authTest.isDone()).toBe(true);
    } finally {
      await other.stop();
    }
  });

  it('fails to start with the Slack error when the token is rejected', async () => {
    nock('https://slack.com').post('/api/auth.test').reply(200, { ok: false, error: 'invalid_auth' });
    const other = createSlackApp({
      receiver: { mode: 'http', signingSecret: SECRET },
      botToken: 'xoxb-revoked',
      slackApiUrl: 'https://slack.com/api/',
      port: 0,
      logger: pino({ level: 'silent' }),
      ready: async () => true,
      register: () => {},
    });

    await expect(other.start()).rejects.toThrow(/invalid_auth/);
    await other.stop();
  });
});

/**
 * A local Socket Mode endpoint: apps.connections.open (behind nock) hands the client a ws:// URL of this
 * server, which says hello and then sends envelopes as Slack does; the client's acks are collected.
 */
interface SocketModeServer {
  url: string;
  acks: { envelope_id: string; payload?: unknown }[];
  connections: number;
  send(envelope: Record<string, unknown>): void;
  /** Resolves with the ack of `envelopeId` once the client sent it. */
  ackOf(envelopeId: string): Promise<{ envelope_id: string; payload?: unknown }>;
  close(): Promise<void>;
}

async function socketModeServer(): Promise<SocketModeServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const sockets: WebSocket[] = [];
  const waiters = new Map<string, (ack: { envelope_id: string; payload?: unknown }) => void>();
  const server: SocketModeServer = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link/?ticket=t-1&app_id=${TEST_APP_ID}`,
    acks: [],
    connections: 0,
    send(envelope) {
      for (const s of sockets) s.send(JSON.stringify(envelope));
    },
    ackOf(envelopeId) {
      const seenAck = server.acks.find((a) => a.envelope_id === envelopeId);
      if (seenAck) return Promise.resolve(seenAck);
      return new Promise((r) => waiters.set(envelopeId, r));
    },
    async close() {
      for (const s of sockets) s.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
  wss.on('connection', (socket) => {
    server.connections++;
    sockets.push(socket);
    socket.on('message', (data) => {
      const ack = JSON.parse(String(data)) as { envelope_id: string; payload?: unknown };
      server.acks.push(ack);
      waiters.get(ack.envelope_id)?.(ack);
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        debug_info: { host: 'applink-test', approximate_connection_time: 18060 },
        connection_info: { app_id: TEST_APP_ID },
      }),
    );
  });
  return server;
}

describe('Slack Socket Mode receiver', () => {
  const API = 'https://slack.sandbox.test';
  let ws: SocketModeServer;
  let seenCommands: { text: string; user: string }[];
  let seenActions: string[];
  let socketApp: SlackApp;

  beforeEach(async () => {
    ws = await socketModeServer();
    seenCommands = [];
    seenActions = [];
    // The app-level token opens the connection, at the configured API URL (not slack.com).
    nock(API, { reqheaders: { authorization: 'Bearer xapp-1-A0PATROL-test' } })
      .post('/api/apps.connections.open')
      .reply(200, { ok: true, url: ws.url });
    socketApp = createSlackApp({
      receiver: { mode: 'socket', appToken: 'xapp-1-A0PATROL-test' },
      botToken: 'xoxb-integration-test',
      slackApiUrl: `${API}/api/`,
      port: 0,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      ready: async () => true,
      botId: 'B0BOT',
      botUserId: 'U0BOT',
      register: (app) => {
        app.command('/access', async ({ ack, command }) => {
          seenCommands.push({ text: command.text, user: command.user_id });
          await ack({ response_type: 'ephemeral', text: `on it: ${command.text}` });
        });
        app.action('approve', async ({ ack, action }) => {
          seenActions.push((action as { value?: string }).value ?? '');
          await ack();
        });
      },
    });
  });

  afterEach(async () => {
    await socketApp.stop();
    await ws.close();
  });

  it('connects through apps.connections.open at the configured API URL and serves health on its port', async () => {
    const { port } = await socketApp.start();

    expect(nock.pendingMocks()).toEqual([]);
    expect(ws.connections).toBe(1);
    const live = await fetch(`http://127.0.0.1:${port}/healthz`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect([live.status, ready.status]).toEqual([200, 200]);
  });

  it('runs the /access listener for a slash command envelope and acks it with the reply', async () => {
    await socketApp.start();
    const payload = Object.fromEntries(new URLSearchParams(slashCommandBody({ text: 'status' })));

    ws.send({ envelope_id: 'env-cmd-1', type: 'slash_commands', accepts_response_payload: true, payload });

    expect(await ws.ackOf('env-cmd-1')).toEqual({
      envelope_id: 'env-cmd-1',
      payload: { response_type: 'ephemeral', text: 'on it: status' },
    });
    expect(seenCommands).toEqual([{ text: 'status', user: 'U0ALICE' }]);
  });

  it('routes an interactive envelope (a button click) to its action listener and acks it', async () => {
    await socketApp.start();
    const payload = JSON.parse(
      new URLSearchParams(blockActionBody({ actionId: 'approve', value: 'f-9' })).get('payload')!,
    );

    ws.send({ envelope_id: 'env-act-1', type: 'interactive', accepts_response_payload: false, payload });

    expect((await ws.ackOf('env-act-1')).envelope_id).toBe('env-act-1');
    expect(seenActions).toEqual(['f-9']);
  });

  it('is not ready while apps.connections.open fails, and ready once the socket is connected', async () => {
    nock.cleanAll();
    nock(API).post('/api/apps.connections.open').reply(200, { ok: false, error: 'internal_error' });
    nock(API).post('/api/apps.connections.open').reply(200, { ok: true, url: ws.url });
    const port = await freePort();
    const retrying = createSlackApp({
      receiver: { mode: 'socket', appToken: 'xapp-1-A0PATROL-test' },
      botToken: 'xoxb-integration-test',
      slackApiUrl: `${API}/api/`,
      port,
      logger: pino({ level: 'silent' }),
      ready: async () => true,
      botId: 'B0BOT',
      botUserId: 'U0BOT',
      register: () => {},
    });
    const started = retrying.start();
    try {
      const readyz = () =>
        fetch(`http://127.0.0.1:${port}/readyz`).then(async (r) => [r.status, await r.text()]);
      let first: unknown[] | undefined;
      for (let i = 0; i < 50 && !first; i++) {
        first = await readyz().catch(() => undefined);
        if (!first) await new Promise((r) => setTimeout(r, 50));
      }
      expect(first?.[0]).toBe(503);
      expect(first?.[1]).toMatch(/^not ready: receiver: Socket Mode (connecting|reconnecting)/);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      // The client waits its reconnect delay, asks again and connects.
      await started;
      expect(await readyz()).toEqual([200, 'ready']);
      expect(retrying.receiverProblem()).toBeUndefined();
    } finally {
      await retrying.stop();
    }
  }, 20_000);

  it('closes the socket and the health port on stop()', async () => {
    const { port } = await socketApp.start();
    await socketApp.stop();

    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
