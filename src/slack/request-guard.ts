// What every request to /slack/events passes before Bolt sees it: a body no larger than Slack sends,
// a valid signature with a timestamp within five minutes either way, a payload of the shape the bot's
// listeners and Bolt rely on, and a body not seen before (a replay, or a Slack retry). Bolt's own
// receiver checks only a past timestamp, reads bodies up to 4 MB before the signature, answers 500
// to some malformed payloads and lets a signed `payload=null` crash the process; none of those get
// past here. The body read here is handed to Bolt as `rawBody`, which Bolt uses instead of reading
// the request again.
import { createHash } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { verifySlackRequest } from '@slack/bolt';
import type { Logger } from 'pino';

/**
 * The largest body accepted. The biggest requests Slack sends this app are a block action carrying
 * one of its messages (Slack refuses messages whose blocks hold more than about 12,000 characters,
 * and the bot's own notification text is at most 3,000) and a modal submission (the bot's modals,
 * whose inputs take at most 3,000 characters); form encoding at most triples their JSON. 256 KiB is
 * several times either (docs/architecture.md, security model), and a sixteenth of Bolt's default.
 */
export const MAX_SLACK_BODY_BYTES = 256 * 1024;

/** Slack's window for a request's timestamp, applied both ways: a clock a little ahead is fine, an hour is not. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

/** How long a claim may take before the request goes on unclaimed (Redis trouble must not eat Slack's 3 s). */
const CLAIM_TIMEOUT_MS = 500;

export interface RequestGuardOptions {
  signingSecret: string;
  /** Paths Bolt serves Slack requests on (POST only); everything else goes straight to Bolt. */
  endpoints: readonly string[];
  logger: Logger;
  /**
   * Claims a request (by a hash of its body) for `ttlSeconds`; false when it was claimed before, so
   * this is a replay or a Slack retry. Without it no request is deduplicated.
   */
  claimRequest?: (bodyHash: string, ttlSeconds: number) => Promise<boolean>;
  maxBodyBytes?: number;
  nowMs?: () => number;
}

type Verdict = { ok: true; ignore?: boolean } | { ok: false; reason: string };

/** Wraps Bolt's request listener (HTTPReceiver.requestListener) with the checks above. */
export function guardSlackRequests(opts: RequestGuardOptions, bolt: RequestListener): RequestListener {
  const max = opts.maxBodyBytes ?? MAX_SLACK_BODY_BYTES;
  const now = opts.nowMs ?? Date.now;
  const log = opts.logger;
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'POST' || !opts.endpoints.includes(path)) {
      bolt(req, res);
      return;
    }
    void handle(req, res).catch((err: unknown) => {
      log.error({ err: (err as Error).message }, 'slack request guard failed');
      answer(res, 500);
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, max);
    if (body === 'too-large') {
      log.warn({ limit: max }, 'slack request refused: body too large');
      answer(res, 413, true);
      req.resume();
      return;
    }
    const text = body.toString('utf8');
    const contentType = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    const form = contentType === 'application/x-www-form-urlencoded' ? new URLSearchParams(text) : null;
    // Slack's SSL check is not signed; Bolt answers it and drops anything else in the body.
    if (form?.get('ssl_check') === '1') return pass(req, res, body);

    const timestamp = Number(header(req, 'x-slack-request-timestamp'));
    const signature = header(req, 'x-slack-signature');
    const nowSeconds = Math.floor(now() / 1000);
    if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > MAX_CLOCK_SKEW_SECONDS) {
      log.warn({ timestamp, now: nowSeconds }, 'slack request refused: timestamp outside five minutes');
      return answer(res, 401);
    }
    try {
      verifySlackRequest({
        signingSecret: opts.signingSecret,
        body: text,
        headers: { 'x-slack-signature': signature ?? '', 'x-slack-request-timestamp': timestamp },
        nowMilliseconds: now(),
      });
    } catch {
      log.warn('slack request refused: bad signature');
      return answer(res, 401);
    }

    const verdict = checkShape(form, text, contentType);
    if (!verdict.ok) {
      log.warn({ reason: verdict.reason }, 'slack request refused: malformed payload');
      return answer(res, 400);
    }
    if (verdict.ignore) return answer(res, 200);

    if (opts.claimRequest) {
      const hash = createHash('sha256').update(body).digest('hex');
      // Claimed for as long as its timestamp is accepted, and past Slack's last retry (5 minutes).
      const ttl = Math.max(timestamp + MAX_CLOCK_SKEW_SECONDS - nowSeconds, MAX_CLOCK_SKEW_SECONDS) + 60;
      const fresh = await claim(opts.claimRequest, hash, ttl);
      if (!fresh) {
        log.info(
          { retry: header(req, 'x-slack-retry-num'), reason: header(req, 'x-slack-retry-reason') },
          'repeated slack request acknowledged and ignored',
        );
        return answer(res, 200);
      }
    }
    pass(req, res, body);
  }

  function pass(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
    bolt(req, res);
  }

  async function claim(
    claimRequest: NonNullable<RequestGuardOptions['claimRequest']>,
    hash: string,
    ttl: number,
  ): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        claimRequest(hash, ttl),
        new Promise<boolean>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer in ${CLAIM_TIMEOUT_MS} ms`)),
            CLAIM_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (err) {
      // The listeners' own deadlines and job ids still hold; refusing every request would not help.
      log.warn({ err: (err as Error).message }, 'could not check for a repeated slack request; handling it');
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}

function answer(res: ServerResponse, status: number, close = false): void {
  if (res.headersSent) return;
  res.writeHead(status, close ? { connection: 'close' } : {}).end();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** The body, or 'too-large' as soon as it passes `max` bytes (the rest is never buffered). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

// --- shapes ---------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

/** Interactive payload types the bot has listeners for; other types are acknowledged and ignored. */
const HANDLED_PAYLOADS = new Set(['block_actions', 'view_submission']);
/** Events the app subscribes to (slack-app-manifest.yml). */
const HANDLED_EVENTS = new Set(['app_home_opened']);

/**
 * Whether a verified body has the shape Bolt and the listeners rely on: Bolt dereferences `user.id`,
 * takes `actions[0]` and `view` without checking them, and crashes on a body that is not an object.
 */
export function checkShape(form: URLSearchParams | null, text: string, contentType: string): Verdict {
  if (form) {
    const payload = form.get('payload');
    if (payload !== null) {
      let p: unknown;
      try {
        p = JSON.parse(payload);
      } catch {
        return { ok: false, reason: 'payload is not JSON' };
      }
      return checkInteraction(p);
    }
    // A slash command.
    for (const field of ['command', 'user_id', 'channel_id', 'team_id', 'response_url', 'trigger_id']) {
      if (!form.get(field)) return { ok: false, reason: `slash command without ${field}` };
    }
    return form.has('text') ? { ok: true } : { ok: false, reason: 'slash command without text' };
  }
  if (contentType !== 'application/json')
    return { ok: false, reason: `content type ${contentType || 'none'}` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  if (!isObj(body) || !isStr(body.type))
    return { ok: false, reason: 'event body is not an object with a type' };
  if (body.type === 'url_verification') {
    return isStr(body.challenge) ? { ok: true } : { ok: false, reason: 'url_verification without challenge' };
  }
  if (body.type !== 'event_callback') return { ok: true, ignore: true };
  const event = body.event;
  if (!isObj(event) || !isStr(event.type)) return { ok: false, reason: 'event_callback without an event' };
  if (!HANDLED_EVENTS.has(event.type)) return { ok: true, ignore: true };
  return isStr(event.user) && isStr(body.team_id)
    ? { ok: true }
    : { ok: false, reason: `${event.type} without user or team_id` };
}

function checkInteraction(p: unknown): Verdict {
  if (!isObj(p) || !isStr(p.type)) return { ok: false, reason: 'payload is not an object with a type' };
  if (!isObj(p.user) || !isStr(p.user.id)) return { ok: false, reason: `${p.type} without user.id` };
  if (p.team !== undefined && p.team !== null && !(isObj(p.team) && isStr(p.team.id))) {
    return { ok: false, reason: `${p.type} with a malformed team` };
  }
  if (!HANDLED_PAYLOADS.has(p.type)) return { ok: true, ignore: true };
  if (p.type === 'block_actions') {
    const actions = p.actions;
    if (!Array.isArray(actions) || actions.length === 0)
      return { ok: false, reason: 'actions is not a list' };
    for (const a of actions) {
      if (!isObj(a) || !isStr(a.action_id) || !isStr(a.type))
        return { ok: false, reason: 'malformed action' };
      if (a.value !== undefined && !isStr(a.value)) return { ok: false, reason: 'action value is not text' };
      if (a.action_ts !== undefined && !isStr(a.action_ts))
        return { ok: false, reason: 'malformed action_ts' };
    }
    if (p.channel !== undefined && p.channel !== null && !(isObj(p.channel) && isStr(p.channel.id))) {
      return { ok: false, reason: 'malformed channel' };
    }
    if (p.message !== undefined && p.message !== null && !(isObj(p.message) && isStr(p.message.ts))) {
      return { ok: false, reason: 'malformed message' };
    }
    if (p.response_url !== undefined && !isStr(p.response_url))
      return { ok: false, reason: 'malformed response_url' };
    return isStr(p.trigger_id) ? { ok: true } : { ok: false, reason: 'block_actions without trigger_id' };
  }
  // view_submission
  const view = p.view;
  if (!isObj(view) || !isStr(view.id) || !isStr(view.callback_id)) {
    return { ok: false, reason: 'view_submission without a view' };
  }
  if (view.private_metadata !== undefined && !isStr(view.private_metadata)) {
    return { ok: false, reason: 'malformed private_metadata' };
  }
  if (!isObj(view.state) || !isObj(view.state.values))
    return { ok: false, reason: 'view without state values' };
  for (const block of Object.values(view.state.values)) {
    if (!isObj(block) || !Object.values(block).every(isInputState)) {
      return { ok: false, reason: 'malformed state value' };
    }
  }
  return { ok: true };
}

/** One input's state as Slack sends it: text, a date, or a chosen option (each may be null). */
function isInputState(v: unknown): boolean {
  if (!isObj(v)) return false;
  const textOrNull = (x: unknown) => x === undefined || x === null || isStr(x);
  const option = v.selected_option;
  return (
    textOrNull(v.value) &&
    textOrNull(v.selected_date) &&
    (option === undefined || option === null || (isObj(option) && isStr(option.value)))
  );
}
