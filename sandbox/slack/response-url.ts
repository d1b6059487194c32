// The response_url of an interaction (issued by sandbox/slack/surfaces.ts), served at /response/<token>.
import type { ServerResponse } from 'node:http';
import { blockProblems } from '../block-kit-rules.ts';
import type { ResponseTarget, SlackFault } from './surfaces.ts';
import { bool, sendText } from './wire.ts';
import type { Workspace } from './workspace.ts';

/**
 * A POST to an interaction's response_url (JSON, as Bolt's respond() sends it). Slack checks the
 * message like chat.postMessage does, then replaces or deletes the message the interaction came
 * from, posts in the channel (response_type in_channel), or shows an ephemeral reply (default).
 */
export function respond(ws: Workspace, res: ServerResponse, token: string, raw: string) {
  const { surfaces, calls, violations, ephemerals, byChannel, messages } = ws;
  const { find, emit, store, addEphemeral } = ws;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw) as Record<string, unknown>;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
  } catch {
    return sendText(res, 400, 'invalid_payload');
  }
  let target: ResponseTarget;
  try {
    target = surfaces.useResponseUrl(token);
  } catch (err) {
    return sendText(res, 404, (err as SlackFault).error);
  }
  calls.push({ method: 'response_url', body });
  const text = typeof body.text === 'string' ? body.text : '';
  const blocks = Array.isArray(body.blocks) ? (body.blocks as Record<string, unknown>[]) : [];
  const del = bool(body.delete_original);
  if (!del) {
    if (text === '' && blocks.length === 0) return sendText(res, 400, 'no_text');
    const problems = body.blocks === undefined ? [] : blockProblems(blocks);
    if (problems.length > 0) {
      violations.push({ method: 'response_url', channel: target.channel, problems });
      return sendText(res, 400, 'invalid_blocks');
    }
  }
  const replace = bool(body.replace_original);
  if ((del || replace) && target.messageTs) {
    if (target.ephemeral) {
      const i = ephemerals.findIndex((e) => e.user === target.user && e.ts === target.messageTs);
      if (i >= 0) {
        if (del) ephemerals.splice(i, 1);
        else Object.assign(ephemerals[i]!, { text, blocks });
        emit({ kind: 'ephemeral', channel: target.channel, user: target.user });
      }
    } else {
      const m = find(target.channel, target.messageTs);
      if (m && del) {
        byChannel.get(target.channel)!.splice(byChannel.get(target.channel)!.indexOf(m), 1);
        messages.splice(messages.indexOf(m), 1);
      } else if (m) {
        m.history.push({ text: m.text, blocks: m.blocks });
        Object.assign(m, { text, blocks, updates: m.updates + 1 });
      }
      emit({ kind: 'message', channel: target.channel, ts: target.messageTs });
    }
    return sendText(res, 200, 'ok');
  }
  if (del) return sendText(res, 200, 'ok');
  const threadTs =
    typeof body.thread_ts === 'string' && body.thread_ts !== '' ? body.thread_ts : target.threadTs;
  if (body.response_type === 'in_channel') {
    store(target.channel, { text, blocks }, threadTs ? find(target.channel, threadTs) : undefined);
  } else {
    addEphemeral({
      channel: target.channel,
      user: target.user,
      text,
      blocks,
      ...(threadTs && { thread_ts: threadTs }),
      from: 'app',
    });
  }
  return sendText(res, 200, 'ok');
}
