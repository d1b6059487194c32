// Slack's side of an interaction, for the sandbox: what Slack sends the app when a person clicks a
// button, submits or closes a modal, types a slash command or opens the Home tab, and what the person
// then sees. Requests are the ones Slack sends (form-encoded `payload=` block_actions and
// view_submission, form-encoded slash commands, JSON Events API callbacks), signed with the signing
// secret, each with a fresh trigger_id (and a response_url where Slack gives one). Slack waits 3
// seconds for the app's answer: later, a slash command shows `/access failed with the error
// "operation_timeout"`, a button shows a warning, a modal says it had trouble connecting.
import { createHmac } from 'node:crypto';
import { escapeMrkdwn } from '../../blocks/escape.ts';
import { shortHash } from '../../src/util/hash.ts';
import { derivedBlockId } from './block-id.ts';
import { type EnteredValues, stateOf } from './modal-input.ts';
import { SANDBOX_WORKSPACE, type SandboxEphemeral, type SandboxMessage, type SlackSandbox } from './types.ts';

export type { EnteredValues };

/** How long Slack waits for the app to answer an interaction, a slash command or an event. */
export const ACK_DEADLINE_MS = 3000;
/** What a modal shows when the app does not answer its submission in time. */
export const SUBMIT_TROUBLE = 'We had some trouble connecting. Try again?';

export interface DispatchOptions {
  slack: SlackSandbox;
  /** The app's request URL for interactivity, slash commands and events (the manifest's). */
  requestUrl: string;
  signingSecret: string;
  /** The slash commands the app defines (the manifest's), e.g. `['/access']`. */
  commands: string[];
  /** Default ACK_DEADLINE_MS; tests shorten it. */
  ackDeadlineMs?: number;
}

/** The app answered in time (`status`, `body`), or Slack gave up (`error`). */
export type Delivery =
  | { delivered: true; status: number; body: string }
  | { delivered: false; error: 'operation_timeout' | 'dispatch_failed'; status?: number };

/** A button a person pressed: the message it is in, and where in the message. */
export interface Click {
  user: string;
  channel: string;
  messageTs: string;
  /** The message is an ephemeral one (only this person sees it). */
  ephemeral?: boolean;
  blockIndex: number;
  /** Index of the element in an actions block; absent for a section's accessory. */
  elementIndex?: number;
}

export type ClickResult = Delivery | { delivered: false; error: 'no_such_button' };
export type SubmitResult =
  | Delivery
  | { delivered: false; error: 'invalid_input'; errors: Record<string, string> };

type Obj = Record<string, unknown>;

export function createDispatcher(opts: DispatchOptions) {
  const { slack } = opts;
  const deadline = opts.ackDeadlineMs ?? ACK_DEADLINE_MS;
  const team = { id: SANDBOX_WORKSPACE.teamId, domain: SANDBOX_WORKSPACE.teamDomain };
  /** Buttons that showed Slack's warning: `${user} ${channel} ${ts} ${block} ${element}` → error. */
  const warnings = new Map<string, string>();

  const userJson = (id: string) => {
    const u = slack.users.find((x) => x.id === id);
    return { id, username: u?.name ?? id, name: u?.name ?? id, team_id: team.id };
  };
  const channelJson = (id: string) => ({ id, name: slack.channelName(id) ?? id.toLowerCase() });

  /** POSTs a signed request and waits at most `deadline` for the answer. */
  const deliver = async (body: string, contentType: string): Promise<Delivery> => {
    const ts = Math.floor(Date.now() / 1000);
    const signature = `v0=${createHmac('sha256', opts.signingSecret).update(`v0:${ts}:${body}`).digest('hex')}`;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), deadline);
    try {
      const res = await fetch(opts.requestUrl, {
        method: 'POST',
        headers: {
          'content-type': contentType,
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': signature,
        },
        body,
        signal: abort.signal,
      });
      const text = await res.text();
      if (res.status !== 200) return { delivered: false, error: 'dispatch_failed', status: res.status };
      return { delivered: true, status: res.status, body: text };
    } catch {
      return { delivered: false, error: abort.signal.aborted ? 'operation_timeout' : 'dispatch_failed' };
    } finally {
      clearTimeout(timer);
    }
  };
  const deliverPayload = (payload: Obj) =>
    deliver(
      new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
      'application/x-www-form-urlencoded',
    );

  const findMessage = (c: Click): SandboxMessage | SandboxEphemeral | undefined =>
    c.ephemeral
      ? slack.ephemerals.find((e) => e.user === c.user && e.channel === c.channel && e.ts === c.messageTs)
      : slack.channelMessages(c.channel).find((m) => m.ts === c.messageTs);

  const warningKey = (c: Click) =>
    `${c.user} ${c.channel} ${c.messageTs} ${c.blockIndex} ${c.elementIndex ?? 'accessory'}`;

  return {
    /** Slack's warning next to a button whose click the app did not answer, if any. */
    warning: (c: Click): string | undefined => warnings.get(warningKey(c)),

    /** A button click in a message: `block_actions` with the button as the message has it. */
    async click(c: Click): Promise<ClickResult> {
      const message = findMessage(c);
      const block = message?.blocks[c.blockIndex] as Obj | undefined;
      const element = (
        c.elementIndex === undefined
          ? block?.accessory
          : (block?.elements as unknown[] | undefined)?.[c.elementIndex]
      ) as Obj | undefined;
      if (!message || !block || element?.type !== 'button')
        return { delivered: false, error: 'no_such_button' };
      const blockId =
        typeof block.block_id === 'string' ? block.block_id : derivedBlockId(c.messageTs, c.blockIndex);
      const action: Obj = {
        action_id: element.action_id,
        block_id: blockId,
        text: { ...(element.text as Obj), emoji: true },
        type: 'button',
        action_ts: (Date.now() / 1000).toFixed(6),
      };
      for (const k of ['value', 'style', 'url'] as const)
        if (element[k] !== undefined) action[k] = element[k];
      const threadTs =
        'thread_ts' in message && message.thread_ts !== message.ts ? message.thread_ts : undefined;
      const payload: Obj = {
        type: 'block_actions',
        user: userJson(c.user),
        api_app_id: SANDBOX_WORKSPACE.appId,
        token: 'sandbox-verification-token',
        container: {
          type: 'message',
          message_ts: c.messageTs,
          channel_id: c.channel,
          is_ephemeral: c.ephemeral === true,
          ...(threadTs && { thread_ts: threadTs }),
        },
        trigger_id: slack.surfaces.issueTrigger(c.user),
        team,
        enterprise: null,
        is_enterprise_install: false,
        channel: channelJson(c.channel),
        state: { values: {} },
        response_url: slack.responseUrl({
          user: c.user,
          channel: c.channel,
          messageTs: c.messageTs,
          ephemeral: c.ephemeral === true,
          ...(threadTs && { threadTs }),
        }),
        actions: [action],
      };
      if (!c.ephemeral) payload.message = messageJson(message as SandboxMessage);
      const result = await deliverPayload(payload);
      if (result.delivered) warnings.delete(warningKey(c));
      else warnings.set(warningKey(c), result.error);
      return result;
    },

    /**
     * Submits the top modal with what the person entered. Slack's client checks required fields and
     * lengths itself and sends nothing until they pass; then the app's answer (errors, update, push,
     * clear, or nothing: close) is applied.
     */
    async submit(user: string, viewId: string, entered: EnteredValues): Promise<SubmitResult> {
      const view = slack.surfaces.stack(user).at(-1);
      if (!view || view.id !== viewId) return { delivered: false, error: 'invalid_input', errors: {} };
      const { values, errors } = stateOf(view, entered);
      if (Object.keys(errors).length > 0) {
        view.errors = errors;
        slack.surfaces.failSubmit(view, '');
        return { delivered: false, error: 'invalid_input', errors };
      }
      view.state = { values };
      const result = await deliverPayload({
        type: 'view_submission',
        team,
        user: userJson(user),
        api_app_id: SANDBOX_WORKSPACE.appId,
        token: 'sandbox-verification-token',
        trigger_id: slack.surfaces.issueTrigger(user),
        view: slack.surfaces.viewJson(view),
        response_urls: [],
        enterprise: null,
        is_enterprise_install: false,
      });
      if (!result.delivered) {
        slack.surfaces.failSubmit(view, SUBMIT_TROUBLE);
        return result;
      }
      let ack: Obj | undefined;
      try {
        ack = result.body.trim() === '' ? undefined : (JSON.parse(result.body) as Obj);
      } catch {
        ack = undefined;
      }
      try {
        slack.surfaces.afterSubmit(view, ack);
      } catch {
        slack.surfaces.failSubmit(view, SUBMIT_TROUBLE);
      }
      return result;
    },

    /** Cancel or ×: closes the top modal; a view with notify_on_close tells the app (view_closed). */
    async close(user: string, viewId: string): Promise<void> {
      const view = slack.surfaces.stack(user).at(-1);
      if (!view || view.id !== viewId) return;
      slack.surfaces.close(user, view.clear_on_close);
      if (view.notify_on_close) {
        await deliverPayload({
          type: 'view_closed',
          team,
          user: userJson(user),
          api_app_id: SANDBOX_WORKSPACE.appId,
          token: 'sandbox-verification-token',
          view: slack.surfaces.viewJson(view),
          is_cleared: view.clear_on_close,
        });
      }
    },

    /**
     * A message typed in a channel that starts with `/`: one of the app's commands goes to the app
     * with a response_url and a trigger_id; anything else gets Slackbot's answer, as in Slack.
     */
    async command(
      user: string,
      channel: string,
      input: string,
    ): Promise<Delivery | { delivered: false; error: 'unknown_command' }> {
      const m = /^(\/\S+)\s*([\s\S]*)$/.exec(input.trim());
      const command = m?.[1] ?? input.trim();
      const text = m?.[2] ?? '';
      if (!opts.commands.includes(command)) {
        slack.addEphemeral({
          channel,
          user,
          from: 'slackbot',
          text: `${escapeMrkdwn(command)} is not a valid command. In Slack, all messages that start with the "/" character are interpreted as commands.\n\nIf you are trying to send a message and not run a command, try preceding the "/" with an empty space.`,
          blocks: [],
        });
        return { delivered: false, error: 'unknown_command' };
      }
      const form = new URLSearchParams({
        token: 'sandbox-verification-token',
        team_id: team.id,
        team_domain: team.domain,
        channel_id: channel,
        channel_name: slack.channelName(channel) ?? channel.toLowerCase(),
        user_id: user,
        user_name: userJson(user).name,
        command,
        text,
        api_app_id: SANDBOX_WORKSPACE.appId,
        is_enterprise_install: 'false',
        response_url: slack.responseUrl({ user, channel }),
        trigger_id: slack.surfaces.issueTrigger(user),
      }).toString();
      const result = await deliver(form, 'application/x-www-form-urlencoded');
      if (!result.delivered) {
        slack.addEphemeral({
          channel,
          user,
          from: 'slackbot',
          text: `${escapeMrkdwn(command)} failed with the error "${result.error}"`,
          blocks: [],
        });
        return result;
      }
      showCommandAck(slack, user, channel, result.body);
      return result;
    },

    /** The person opens the app's Home tab: an `app_home_opened` event (Events API). */
    async openHome(user: string): Promise<Delivery> {
      const published = slack.homes[user]?.at(-1);
      const eventTs = (Date.now() / 1000).toFixed(6);
      const body = JSON.stringify({
        token: 'sandbox-verification-token',
        team_id: team.id,
        api_app_id: SANDBOX_WORKSPACE.appId,
        event: {
          type: 'app_home_opened',
          user,
          channel: slack.dmChannelId(user),
          tab: 'home',
          event_ts: eventTs,
          ...(published && { view: { type: 'home', blocks: published.blocks } }),
        },
        type: 'event_callback',
        event_id: `Ev${shortHash(`${user}${eventTs}`, 10).toUpperCase()}`,
        event_time: Math.floor(Date.now() / 1000),
        authorizations: [
          {
            team_id: team.id,
            user_id: SANDBOX_WORKSPACE.botUserId,
            is_bot: true,
            is_enterprise_install: false,
          },
        ],
        is_ext_shared_channel: false,
      });
      return deliver(body, 'application/json');
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;

function messageJson(m: SandboxMessage): Obj {
  const out: Obj = m.user
    ? { type: 'message', user: m.user, ts: m.ts, text: m.text, blocks: m.blocks }
    : {
        type: 'message',
        user: SANDBOX_WORKSPACE.botUserId,
        bot_id: SANDBOX_WORKSPACE.botId,
        app_id: SANDBOX_WORKSPACE.appId,
        team: SANDBOX_WORKSPACE.teamId,
        ts: m.ts,
        text: m.text,
        blocks: m.blocks,
      };
  if (m.thread_ts) out.thread_ts = m.thread_ts;
  if (m.reply_count !== undefined) out.reply_count = m.reply_count;
  if (m.edited) out.edited = m.edited;
  return out;
}

/** A slash command's HTTP answer, when it has a body: shown as Slack shows it (ephemeral by default). */
function showCommandAck(slack: SlackSandbox, user: string, channel: string, body: string): void {
  if (body.trim() === '') return;
  let msg: Obj;
  try {
    msg = JSON.parse(body) as Obj;
  } catch {
    msg = { text: body };
  }
  const text = typeof msg.text === 'string' ? msg.text : '';
  const blocks = Array.isArray(msg.blocks) ? (msg.blocks as Obj[]) : [];
  if (text === '' && blocks.length === 0) return;
  if (msg.response_type === 'in_channel') slack.postAsApp(channel, { text, blocks });
  else slack.addEphemeral({ channel, user, text, blocks, from: 'app' });
}
