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
import { seededRandom } from '../random.ts';
import { createSlackApi, tokenOf } from './api.ts';
import { respond } from './response-url.ts';
import { SlackFault } from './surfaces.ts';
import type {
  SandboxMessage,
  SlackCall,
  SlackFaulted,
  SlackFaultRule,
  SlackFaults,
  SlackSandbox,
  SlackSandboxOptions,
} from './types.ts';
import { decodeBody, send, sendText } from './wire.ts';

export async function startSlackSandbox(opts: SlackSandboxOptions = {}): Promise<SlackSandbox> {
  const api = createSlackApi(opts);
  const { ws } = api;
  const { messages, calls, violations, byChannel, names, homes, ephemerals, surfaces, users } = ws;
  const { channelId, dmChannelId, resolveChannel, find, store, addEphemeral } = ws;
  let baseUrl = '';
  const faults: SlackFaults = { seed: opts.faults?.seed, rules: [...(opts.faults?.rules ?? [])] };
  const faulted: SlackFaulted[] = [];
  const draw = seededRandom(faults.seed ?? 1);
  let faultRateLimited = 0;
  /** The rule that picks this call, if any (one draw per rule that covers the method). */
  const picks = new Map<SlackFaultRule, number>();
  const pickFault = (method: string, body: Record<string, unknown>): SlackFaultRule | undefined => {
    for (const rule of faults.rules) {
      if (!(rule.methods ?? ['chat.postMessage']).includes(method)) continue;
      if (rule.times !== undefined && (picks.get(rule) ?? 0) >= rule.times) continue;
      if (rule.match && !rule.match(body)) continue;
      if (draw() < rule.fraction) {
        picks.set(rule, (picks.get(rule) ?? 0) + 1);
        return rule;
      }
    }
    return undefined;
  };

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
      const token = tokenOf(req.headers.authorization, body);
      const known = url.pathname.startsWith('/api/') && Object.hasOwn(api.methods, method);
      const fault = known && token ? pickFault(method, body) : undefined;
      if (!fault) {
        const answer = api.call(method, body, token);
        return send(res, answer.status, answer.body, answer.headers);
      }
      const answer = fault.answer ?? 500;
      const when = answer === 429 ? 'before' : (fault.when ?? 'after');
      /** Loses the answer the way the rule says: a status, or a closed connection. */
      const lose = (call: SlackCall, ts?: string) => {
        faulted.push({ method, when, answer, ...(ts ? { ts } : {}) });
        call.error = `fault:${answer}:${when}`;
        if (answer === 'drop') return void req.socket.destroy();
        if (answer === 429) {
          faultRateLimited++;
          return send(
            res,
            429,
            { ok: false, error: 'ratelimited' },
            { 'Retry-After': String(fault.retryAfterSeconds ?? 1) },
          );
        }
        return sendText(res, answer, `${answer} sandbox fault`);
      };
      if (when === 'before') {
        const call: SlackCall = { method, body, at: Date.now() };
        calls.push(call);
        return lose(call);
      }
      // Slack acts, then the answer is lost.
      const done = api.call(method, body, token);
      const call = calls[calls.length - 1]!;
      if (done.status !== 200 || done.body.ok !== true)
        return send(res, done.status, done.body, done.headers);
      return lose(call, typeof done.body.ts === 'string' ? done.body.ts : undefined);
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
    rateLimited: () => api.rateLimited() + faultRateLimited,
    failChannel: api.failChannel,
    failNext: api.failNext,
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
    faults,
    faulted,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
