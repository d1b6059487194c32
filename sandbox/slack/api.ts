// The Slack Web API of the sandbox without its transport: one call (method, decoded body, token) in,
// Slack's answer (HTTP status, JSON body, headers) out. The sandbox's HTTP server (server.ts) serves
// it on a port; the tests' nock stand-in (test/helpers/fake-slack.ts) answers intercepted requests
// with it, so both refuse and answer alike. Faults a test or the demo injects (a channel the bot was
// removed from, the next calls failing or rate-limited) are applied here, before the method runs.
import { chatMethods } from './chat.ts';
import { conversationMethods } from './conversations.ts';
import { SlackFault } from './surfaces.ts';
import type { SlackCall, SlackSandboxOptions } from './types.ts';
import { userMethods } from './users.ts';
import { viewMethods } from './views.ts';
import { createWorkspace, type Methods, type Workspace } from './workspace.ts';

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/** Methods a channel fault applies to: posting and changing messages there. */
const CHANNEL_WRITES = new Set(['chat.postMessage', 'chat.update', 'chat.delete', 'chat.postEphemeral']);

export interface SlackApi {
  ws: Workspace;
  methods: Methods;
  /** Answers one Web API call as Slack does, and records it in `ws.calls`. */
  call(method: string, body: Record<string, unknown>, token: string): ApiAnswer;
  /**
   * From now on, posting to `channel` fails with `error` (`not_in_channel`, `is_archived`,
   * `channel_not_found`, ...), as for a channel the bot was removed from or that was archived or
   * deleted; `channel_not_found` fails every call naming the channel.
   */
  failChannel(channel: string, error: string): void;
  /** The next `times` calls of `method` fail with `error`; `ratelimited` answers HTTP 429 Retry-After: 1. */
  failNext(method: string, times: number, error: string): void;
  /** Count of 429 answers. */
  rateLimited(): number;
}

/** The token of a call: `Authorization: Bearer …`, or a `token` field in the body. */
export function tokenOf(authorization: string | undefined, body: Record<string, unknown>): string {
  const auth = String(authorization ?? '');
  if (auth.startsWith('Bearer ')) return auth.slice(7);
  return typeof body.token === 'string' ? body.token : '';
}

export function createSlackApi(opts: SlackSandboxOptions = {}): SlackApi {
  const ws = createWorkspace(opts);
  const methods: Methods = {
    ...chatMethods(ws),
    ...conversationMethods(ws),
    ...userMethods(ws),
    ...viewMethods(ws),
  };
  const failingChannels = new Map<string, string>();
  const nextFaults: { method: string; times: number; error: string }[] = [];
  let rateLimitedCount = 0;

  const error = (call: SlackCall, fault: SlackFault): ApiAnswer => {
    call.error = fault.error;
    if (fault.error === 'ratelimited') {
      rateLimitedCount++;
      return { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'Retry-After': '1' } };
    }
    return { status: 200, body: { ok: false, error: fault.error, ...fault.extra }, headers: {} };
  };

  const injected = (method: string, body: Record<string, unknown>): SlackFault | undefined => {
    const next = nextFaults.find((f) => f.method === method && f.times > 0);
    if (next) {
      next.times--;
      return new SlackFault(next.error);
    }
    if (typeof body.channel !== 'string' || body.channel === '') return undefined;
    const channelError = failingChannels.get(ws.channelId(body.channel));
    if (channelError && (CHANNEL_WRITES.has(method) || channelError === 'channel_not_found'))
      return new SlackFault(channelError);
    return undefined;
  };

  return {
    ws,
    methods,
    call(method, body, token) {
      const call: SlackCall = { method, body, at: Date.now() };
      ws.calls.push(call);
      if (opts.revokedTokens?.includes(token)) return error(call, new SlackFault('token_revoked'));
      if (!token || (opts.token !== undefined && token !== opts.token))
        return error(call, new SlackFault('invalid_auth'));
      const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
      if (!handler) return error(call, new SlackFault('unknown_method'));
      const fault = injected(method, body);
      if (fault) return error(call, fault);
      try {
        return { status: 200, body: { ok: true, ...handler(body) }, headers: {} };
      } catch (err) {
        if (err instanceof SlackFault) return error(call, err);
        call.error = 'internal_error';
        return {
          status: 500,
          body: { ok: false, error: 'internal_error', detail: String(err) },
          headers: {},
        };
      }
    },
    failChannel(channel, err) {
      failingChannels.set(ws.channelId(channel), err);
    },
    failNext(method, times, err) {
      nextFaults.push({ method, times, error: err });
    },
    rateLimited: () => rateLimitedCount,
  };
}
