// A local Slack Web API for the demo, end-to-end tests and the benchmark: point a real WebClient at
// `apiUrl` (slackApiUrl). Speaks what @slack/web-api 8 sends: POST /api/<method> with an
// application/x-www-form-urlencoded body whose nested fields (blocks, metadata, ...) are
// JSON-stringified, and a Bearer token. JSON bodies (application/json) are accepted too.
// Answers like Slack: HTTP 200 with `{ ok: false, error }` for API errors, 429 + Retry-After when rate-limited.
// Besides the Web API it keeps what Slack keeps per person (modals, ephemeral messages, the Home tab)
// and serves each interaction's response_url at /response/<token> (sandbox/slack/surfaces.ts), so a
// workspace page (sandbox/workspace/) can send real interactions to the bot (sandbox/slack/dispatch.ts).
// The Web API methods are grouped by family beside this file: chat.ts, conversations.ts, users.ts,
// views.ts; the state they share is workspace.ts.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatMethods } from './chat.ts';
import { conversationMethods } from './conversations.ts';
import { respond } from './response-url.ts';
import { SlackFault } from './surfaces.ts';
import type { SandboxMessage, SlackCall, SlackSandbox, SlackSandboxOptions } from './types.ts';
import { userMethods } from './users.ts';
import { viewMethods } from './views.ts';
import { decodeBody, send } from './wire.ts';
import { createWorkspace, type Methods } from './workspace.ts';

export async function startSlackSandbox(opts: SlackSandboxOptions = {}): Promise<SlackSandbox> {
  const ws = createWorkspace(opts);
  const { messages, calls, violations, byChannel, names, homes, ephemerals, surfaces, users } = ws;
  const { channelId, dmChannelId, resolveChannel, find, store, addEphemeral } = ws;
  const methods: Methods = {
    ...chatMethods(ws),
    ...conversationMethods(ws),
    ...userMethods(ws),
    ...viewMethods(ws),
  };
  let rateLimitedCount = 0;
  let baseUrl = '';

  const postAsUser = (channel: string, user: string, text: string, threadTs?: string): SandboxMessage => {
    const id = resolveChannel(channel);
    const parent = threadTs ? find(id, threadTs) : undefined;
    if (threadTs && !parent) throw new SlackFault('thread_not_found');
    return store(id, { text }, parent, user);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (opts.latencyMs && opts.latencyMs > 0 && req.url?.startsWith('/api/'))
        setTimeout(answer, opts.latencyMs);
      else answer();
    });
    const answer = () => {
      const url = new URL(req.url ?? '/', 'http://sandbox');
      const method = url.pathname.replace(/^\/api\//, '');
      const raw = Buffer.concat(chunks).toString('utf8');
      if (url.pathname.startsWith('/response/')) return respond(ws, res, url.pathname.slice(10), raw);
      let body: Record<string, unknown>;
      try {
        body = decodeBody(raw, String(req.headers['content-type'] ?? ''));
        for (const [k, v] of url.searchParams) body[k] ??= v;
      } catch {
        calls.push({ method, body: {}, error: 'invalid_form_data' });
        return send(res, 200, { ok: false, error: 'invalid_form_data' });
      }
      const call: SlackCall = { method, body, at: Date.now() };
      calls.push(call);
      const auth = String(req.headers.authorization ?? '');
      const token = auth.startsWith('Bearer ')
        ? auth.slice(7)
        : typeof body.token === 'string'
          ? body.token
          : '';
      if (opts.revokedTokens?.includes(token)) {
        call.error = 'token_revoked';
        return send(res, 200, { ok: false, error: 'token_revoked' });
      }
      if (!token || (opts.token !== undefined && token !== opts.token)) {
        call.error = 'invalid_auth';
        return send(res, 200, { ok: false, error: 'invalid_auth' });
      }
      const handler = methods[method];
      if (!url.pathname.startsWith('/api/') || !handler) {
        call.error = 'unknown_method';
        return send(res, 200, { ok: false, error: 'unknown_method' });
      }
      try {
        const out = handler(body);
        return send(res, 200, { ok: true, ...out });
      } catch (err) {
        if (err instanceof SlackFault) {
          call.error = err.error;
          if (err.error === 'ratelimited') {
            rateLimitedCount++;
            return send(res, 429, { ok: false, error: 'ratelimited' }, { 'Retry-After': '1' });
          }
          return send(res, 200, { ok: false, error: err.error, ...err.extra });
        }
        call.error = 'internal_error';
        return send(res, 500, { ok: false, error: 'internal_error', detail: String(err) });
      }
    };
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  baseUrl = url;

  return {
    url,
    apiUrl: `${url}/api/`,
    messages,
    calls,
    violations,
    channelId,
    channelMessages: (channel) => [...(byChannel.get(channelId(channel)) ?? [])],
    threadReplies: (channel, threadTs) =>
      (byChannel.get(channelId(channel)) ?? []).filter((m) => m.thread_ts === threadTs && m.ts !== threadTs),
    rateLimited: () => rateLimitedCount,
    homes,
    dmChannelId,
    ephemerals,
    surfaces,
    responseUrl: (target) => surfaces.issueResponseUrl(baseUrl, target),
    addEphemeral,
    postAsUser,
    postAsApp: (channel, msg) => store(resolveChannel(channel), msg, undefined),
    users,
    channelName: (id) => names.get(id),
    onChange: ws.onChange,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
