// What Slack keeps per person for the sandbox: the trigger_ids an interaction hands out, the modal
// stack they open (views.open, views.push, views.update) and the response_url of each interaction.
// The rules are Slack's: a trigger_id works once and for 3 seconds, at most 3 views are stacked, a
// view is updated only while it is open (and only when the hash still matches, when one is given), a
// response_url takes 5 posts within 30 minutes.
import { randomBytes } from 'node:crypto';
import { viewProblems } from '../block-kit-rules.ts';

export const TRIGGER_TTL_MS = 3000;
export const VIEW_STACK_MAX = 3;
export const RESPONSE_URL_MAX_USES = 5;
export const RESPONSE_URL_TTL_MS = 30 * 60_000;

/** A Web API error answer (`{ ok: false, error, ...extra }`). */
export class SlackFault extends Error {
  constructor(
    readonly error: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
  }
}

export interface SandboxView {
  id: string;
  user: string;
  type: 'modal';
  team_id: string;
  app_id: string;
  bot_id: string;
  callback_id: string;
  private_metadata: string;
  external_id: string;
  title: Record<string, unknown>;
  submit?: Record<string, unknown>;
  close?: Record<string, unknown>;
  blocks: Record<string, unknown>[];
  notify_on_close: boolean;
  clear_on_close: boolean;
  hash: string;
  root_view_id: string;
  previous_view_id: string | null;
  state: { values: Record<string, Record<string, Record<string, unknown>>> };
  /** Errors the app answered to the last submission (response_action: errors), by block id. */
  errors?: Record<string, string>;
  /** What Slack shows in the modal when the app did not answer a submission in time. */
  failure?: string;
}

/** Where an interaction's response_url posts: the person, the channel, and the message it came from. */
export interface ResponseTarget {
  user: string;
  channel: string;
  /** The message the interaction came from (absent for slash commands). */
  messageTs?: string;
  /** True when that message is an ephemeral one. */
  ephemeral?: boolean;
  /** The thread that message is in: ephemeral answers show there. */
  threadTs?: string;
}

export interface SurfacesOptions {
  teamId: string;
  appId: string;
  botId: string;
  now: () => number;
  /** Called when a view opens, changes or closes. */
  changed: (user: string) => void;
}

export function createSurfaces(opts: SurfacesOptions) {
  const triggers = new Map<string, { user: string; issuedAt: number; used: boolean }>();
  const stacks = new Map<string, SandboxView[]>();
  const byId = new Map<string, SandboxView>();
  const responseUrls = new Map<string, { target: ResponseTarget; issuedAt: number; uses: number }>();
  let seq = 0;

  const nextHash = () => `${Math.floor(opts.now() / 1000)}.${randomBytes(4).toString('hex')}`;

  /** The view as Slack answers it (and sends it in view_submission payloads). */
  const viewJson = (v: SandboxView): Record<string, unknown> => {
    const { user: _user, errors: _errors, failure: _failure, ...out } = v;
    return out;
  };

  const build = (raw: unknown, user: string, root?: SandboxView, previous?: SandboxView): SandboxView => {
    const problems = viewProblems(raw, 'modal');
    if (problems.length > 0) {
      throw new SlackFault('invalid_arguments', {
        response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) },
      });
    }
    const v = raw as Record<string, unknown>;
    const id = `V${(Date.now() + ++seq).toString(36).toUpperCase()}${randomBytes(2).toString('hex').toUpperCase()}`;
    const view: SandboxView = {
      id,
      user,
      type: 'modal',
      team_id: opts.teamId,
      app_id: opts.appId,
      bot_id: opts.botId,
      callback_id: typeof v.callback_id === 'string' ? v.callback_id : '',
      private_metadata: typeof v.private_metadata === 'string' ? v.private_metadata : '',
      external_id: typeof v.external_id === 'string' ? v.external_id : '',
      title: v.title as Record<string, unknown>,
      blocks: v.blocks as Record<string, unknown>[],
      notify_on_close: v.notify_on_close === true,
      clear_on_close: v.clear_on_close === true,
      hash: nextHash(),
      root_view_id: root?.id ?? id,
      previous_view_id: previous?.id ?? null,
      state: { values: {} },
    };
    if (v.submit) view.submit = v.submit as Record<string, unknown>;
    if (v.close) view.close = v.close as Record<string, unknown>;
    return view;
  };

  /** Takes a trigger_id: Slack's errors for a missing, unknown, used or expired one. */
  const exchange = (triggerId: unknown): string => {
    if (typeof triggerId !== 'string' || triggerId === '') {
      throw new SlackFault('invalid_arguments', {
        response_metadata: { messages: ['[ERROR] missing required field: trigger_id'] },
      });
    }
    const t = triggers.get(triggerId);
    if (!t) throw new SlackFault('invalid_trigger_id');
    if (t.used) throw new SlackFault('exchanged_trigger_id');
    if (opts.now() - t.issuedAt > TRIGGER_TTL_MS) throw new SlackFault('expired_trigger_id');
    t.used = true;
    return t.user;
  };

  const replace = (old: SandboxView, raw: unknown): SandboxView => {
    const stack = stacks.get(old.user) ?? [];
    const i = stack.indexOf(old);
    const root = i > 0 ? stack[0] : undefined;
    const fresh = build(raw, old.user, root, i > 0 ? stack[i - 1] : undefined);
    // An updated view keeps its id; only its content and hash change.
    Object.assign(old, { ...fresh, id: old.id, root_view_id: old.root_view_id, state: { values: {} } });
    delete old.errors;
    delete old.failure;
    opts.changed(old.user);
    return old;
  };

  const methods: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    'views.open': (body) => {
      const user = exchange(body.trigger_id);
      if (body.view === undefined) throw new SlackFault('invalid_arguments');
      const view = build(body.view, user);
      for (const v of stacks.get(user) ?? []) byId.delete(v.id);
      stacks.set(user, [view]);
      byId.set(view.id, view);
      opts.changed(user);
      return { view: viewJson(view) };
    },
    'views.push': (body) => {
      const user = exchange(body.trigger_id);
      const stack = stacks.get(user) ?? [];
      if (stack.length === 0) throw new SlackFault('not_found');
      if (stack.length >= VIEW_STACK_MAX) throw new SlackFault('push_limit_reached');
      const view = build(body.view, user, stack[0], stack.at(-1));
      stack.push(view);
      byId.set(view.id, view);
      opts.changed(user);
      return { view: viewJson(view) };
    },
    'views.update': (body) => {
      let view: SandboxView | undefined;
      if (typeof body.view_id === 'string' && body.view_id !== '') view = byId.get(body.view_id);
      else if (typeof body.external_id === 'string' && body.external_id !== '') {
        view = [...byId.values()].find((v) => v.external_id === body.external_id);
      } else {
        throw new SlackFault('invalid_arguments', {
          response_metadata: { messages: ['[ERROR] missing required field: view_id or external_id'] },
        });
      }
      if (!view) throw new SlackFault('not_found');
      if (typeof body.hash === 'string' && body.hash !== '' && body.hash !== view.hash) {
        throw new SlackFault('hash_conflict');
      }
      return { view: viewJson(replace(view, body.view)) };
    },
  };

  return {
    methods,
    viewJson,

    /** A trigger_id for an interaction of `user` (Slack puts one in every interaction payload). */
    issueTrigger(user: string): string {
      const id = `${Math.floor(opts.now() / 1000)}.${(++seq).toString()}.${randomBytes(8).toString('hex')}`;
      triggers.set(id, { user, issuedAt: opts.now(), used: false });
      return id;
    },

    /**
     * A trigger_id Slack handed out in an interaction the sandbox did not send (a test's own
     * payload): usable once, for 3 seconds from now, like one the sandbox issued. A known id is left
     * as it is, so one already exchanged stays exchanged.
     */
    adoptTrigger(id: string, user: string): void {
      if (!triggers.has(id)) triggers.set(id, { user, issuedAt: opts.now(), used: false });
    },

    /** The person's open modals, bottom first (the top one is shown). */
    stack: (user: string): SandboxView[] => [...(stacks.get(user) ?? [])],
    view: (id: string): SandboxView | undefined => byId.get(id),

    /** Closes the top view (its Cancel or ×), or every view (`clear`). */
    close(user: string, all = false): void {
      const stack = stacks.get(user) ?? [];
      const gone = all ? stack.splice(0) : stack.splice(-1);
      for (const v of gone) byId.delete(v.id);
      opts.changed(user);
    },

    /** What a submission's ack asked for: response_action errors, update, push or clear (else close). */
    afterSubmit(view: SandboxView, ack: Record<string, unknown> | undefined): void {
      const action = ack?.response_action;
      if (action === 'errors' && ack && typeof ack.errors === 'object' && ack.errors) {
        view.errors = ack.errors as Record<string, string>;
        delete view.failure;
        opts.changed(view.user);
      } else if (action === 'update') replace(view, ack?.view);
      else if (action === 'push') {
        const stack = stacks.get(view.user) ?? [];
        if (stack.length >= VIEW_STACK_MAX) throw new SlackFault('push_limit_reached');
        const pushed = build(ack?.view, view.user, stack[0], stack.at(-1));
        stack.push(pushed);
        byId.set(pushed.id, pushed);
        opts.changed(view.user);
      } else if (action === 'clear') this.close(view.user, true);
      else this.close(view.user);
    },

    /** Shows Slack's note in the modal (the app did not answer in time, or failed). */
    failSubmit(view: SandboxView, failure: string): void {
      view.failure = failure;
      opts.changed(view.user);
    },

    /** A response_url for an interaction; the Slack sandbox serves it at `${base}/response/<token>`. */
    issueResponseUrl(base: string, target: ResponseTarget): string {
      const token = randomBytes(12).toString('hex');
      responseUrls.set(token, { target, issuedAt: opts.now(), uses: 0 });
      return `${base}/response/${token}`;
    },

    /** Takes one use of a response_url; throws Slack's answer for an unknown, used-up or expired one. */
    useResponseUrl(token: string): ResponseTarget {
      const r = responseUrls.get(token);
      if (!r) throw new SlackFault('invalid_url');
      if (opts.now() - r.issuedAt > RESPONSE_URL_TTL_MS) throw new SlackFault('expired_url');
      if (r.uses >= RESPONSE_URL_MAX_USES) throw new SlackFault('used_url');
      r.uses++;
      return r.target;
    },
  };
}

export type Surfaces = ReturnType<typeof createSurfaces>;
