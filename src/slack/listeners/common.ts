// What every listener does the same way: authorise and audit a request, enqueue its job within
// Slack's 3-second budget, and answer the person ephemerally.
import type { SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { StatusView } from '../../../blocks/command-replies.ts';
import type { ArchiveModalMetadata } from '../../../blocks/modals.ts';
import {
  acceptedNote,
  alreadyRequestedNote,
  refusedNote,
  unavailableNote,
  unknownFindingNote,
} from '../../../blocks/receipts.ts';
import type { AppConfig } from '../../config/schema.ts';
import { ruleOwners } from '../../findings/routing.ts';
import {
  type ActionJobData,
  type ActionRequest,
  enqueue as enqueueJob,
  type JobName,
  type JobPayloads,
  jobIdOf,
} from '../../queue/index.ts';
import type { AuditEntry, AuditLog } from '../../store/audit.ts';
import type { FindingFilter, FindingState, FindingStore, ListedFinding } from '../../store/findings.ts';
import { DOUBLE_CLICK_MS, type IntentClaim, type IntentStore } from '../../store/intents.ts';
import type { Action, Authorization, AuthorizeInput } from '../permissions.ts';

export interface ListenerDeps {
  config: AppConfig;
  actions: Queue<ActionJobData>;
  scan: Queue;
  store: FindingStore;
  /** Requests under way, so a second click on the same thing adds nothing. */
  intents: IntentStore;
  audit: AuditLog;
  authorize: (input: AuthorizeInput) => Promise<Authorization>;
  logger: Logger;
  now: () => Date;
  /** Findings matching a filter, for /access findings. */
  listFindings: (filter: FindingFilter) => Promise<{ items: ListedFinding[]; truncated: boolean }>;
  /** One page of /access findings and how many match (what `keep` lets through, when given). */
  findingsPage: (
    filter: FindingFilter,
    page: { offset: number; limit: number; keep?: (f: ListedFinding) => Promise<boolean> },
  ) => Promise<{ items: ListedFinding[]; total: number }>;
  /** Last scan and queue depths, for /access status. */
  status: () => Promise<StatusView>;
  /** This week's digest of a channel as it would be sent now, for /access digest (records nothing). */
  channelDigest?: (channel: string, userId: string) => Promise<{ text: string; blocks: unknown[] }>;
  /** The App Home view of one person (their findings and last digest). */
  homeView?: (userId: string) => Promise<{ type: 'home'; blocks: unknown[] }>;
  /** The channel id the bot learned for a `#name` (on its first post there), or the name as given. */
  channelId: (channel: string) => Promise<string>;
}

/** Enqueueing must answer well inside Slack's 3 seconds even when Redis is down. */
export const ENQUEUE_TIMEOUT_MS = 1500;

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

export type Reply = (msg: { text: string; blocks: unknown[] }) => Promise<unknown>;

/** What a permission check is about: who asks for what, on which finding when there is one. */
export type PermissionCheck = AuthorizeInput & {
  findingId?: string;
  region?: string;
};

/** What a person is told when Redis fails under a listener (never ioredis's own words). */
export const REDIS_DOWN_NOTE = {
  read: 'The bot could not read the finding (its Redis is not answering).',
  queue: 'The bot could not queue your request (its Redis is not answering).',
} as const;

/**
 * The owner of a finding as stored when it was routed: the channel the routing rules chose (a
 * `#name` resolved to the id the bot learned for it) and the owners named by that rule. Never the
 * channel of a click, which may be a digest, a fallback channel or forged.
 */
export async function ownerOf(
  deps: Pick<ListenerDeps, 'config' | 'channelId'>,
  state: Partial<Pick<FindingState, 'routeChannel' | 'routeRule' | 'channel'>>,
): Promise<Pick<AuthorizeInput, 'findingChannel' | 'ruleOwners'>> {
  const route = state.routeChannel || state.channel;
  const findingChannel = route?.startsWith('#') ? await deps.channelId(route) : route;
  const owners = ruleOwners(deps.config.routing, state.routeRule);
  return { ...(findingChannel ? { findingChannel } : {}), ...(owners ? { ruleOwners: owners } : {}) };
}

/** A stored finding a request is about: its card (any id of the card names it) and its state. */
export interface RequestedFinding {
  cardId: string;
  state: FindingState;
}

/**
 * Reads a finding (by any id of its card) and checks `action` against its stored owner. Returns
 * the card when allowed. A finding the store does not know is refused (answered and audited): the
 * bot cannot tell whose it is. A Redis failure is answered as such (`unavailable`, by default an
 * ephemeral note).
 */
export async function permittedOnFinding(
  deps: ListenerDeps,
  reply: Reply,
  input: { action: Action; userId: string; findingId: string; unavailable?: () => Promise<unknown> },
): Promise<RequestedFinding | null> {
  let card: RequestedFinding | null;
  try {
    card = await withTimeout(deps.store.getCard(input.findingId), ENQUEUE_TIMEOUT_MS, 'reading the finding');
  } catch (err) {
    deps.logger.error({ err: (err as Error).message, findingId: input.findingId }, 'finding read failed');
    await (input.unavailable ? input.unavailable() : reply(unavailableNote(REDIS_DOWN_NOTE.read)));
    return null;
  }
  if (!card) {
    await auditRefusal(deps, {
      actor: input.userId,
      action: input.action,
      findingId: input.findingId,
      detail: 'finding unknown to the bot',
    });
    await reply(unknownFindingNote(input.findingId));
    return null;
  }
  const owner = await ownerOf(deps, card.state);
  const ok = await permitted(deps, reply, {
    action: input.action,
    userId: input.userId,
    findingId: card.cardId,
    region: card.state.region,
    ...owner,
  });
  return ok ? card : null;
}

/**
 * What one person may read (`/access findings`, `show`, `audit`): every finding for admins and the
 * people listed under `permissions.read`, otherwise the findings they own (a member of the owner
 * channel, or an owner named by the routing rule). Lookups are shared by findings with one owner.
 */
export interface Reader {
  all: boolean;
  mayRead(finding: Partial<Pick<FindingState, 'routeChannel' | 'routeRule' | 'channel'>>): Promise<boolean>;
}

export async function readerOf(deps: ListenerDeps, userId: string): Promise<Reader> {
  if ((await deps.authorize({ action: 'read', userId })).allowed) {
    return { all: true, mayRead: async () => true };
  }
  const byOwner = new Map<string, Promise<boolean>>();
  return {
    all: false,
    mayRead(f) {
      const key = [f.routeChannel, f.routeRule, f.channel].join('\n');
      let allowed = byOwner.get(key);
      if (!allowed) {
        allowed = ownerOf(deps, f)
          .then((owner) => deps.authorize({ action: 'read', userId, ...owner }))
          .then((d) => d.allowed);
        byOwner.set(key, allowed);
      }
      return allowed;
    },
  };
}

async function auditRefusal(deps: ListenerDeps, entry: Omit<AuditEntry, 'at' | 'outcome'>): Promise<void> {
  await deps.audit
    .record({ ...entry, outcome: 'refused' })
    .catch((err: unknown) => deps.logger.error({ err: (err as Error).message }, 'audit write failed'));
}

/**
 * Checks the permission; a refusal is audited, then answered. Returns true when allowed.
 * A failing membership lookup is reported as such, never as a refusal.
 */
export async function permitted(deps: ListenerDeps, reply: Reply, input: PermissionCheck): Promise<boolean> {
  let decision: Authorization;
  try {
    decision = await deps.authorize(input);
  } catch (err) {
    deps.logger.error({ err: (err as Error).message, user: input.userId }, 'permission check failed');
    await reply(unavailableNote('Could not check your permission with Slack.'));
    return false;
  }
  if (decision.allowed) return true;
  // Recorded before it is answered: whoever sees the refusal can find it in the audit trail.
  await auditRefusal(deps, {
    actor: input.userId,
    action: input.action,
    findingId: input.findingId,
    region: input.region,
    detail: decision.need,
  });
  await reply(refusedNote({ action: input.action, who: decision.who }));
  return false;
}

/** Adds a job with a deterministic id (a repeated click or Slack retry adds nothing). */
export async function enqueue(
  deps: ListenerDeps,
  reply: Reply,
  add: () => Promise<unknown>,
): Promise<boolean> {
  return queued(deps, add, () => reply(unavailableNote(REDIS_DOWN_NOTE.queue)));
}

async function queued(
  deps: ListenerDeps,
  add: () => Promise<unknown>,
  onUnqueued: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await withTimeout(add(), ENQUEUE_TIMEOUT_MS, 'queueing the request');
    return true;
  } catch (err) {
    deps.logger.error({ err: (err as Error).message }, 'enqueue failed');
    await onUnqueued();
    return false;
  }
}

/** A job a person asks for; its id comes from the request, so a repeated click or retry adds nothing. */
export type RequestedJob = { [N in JobName]: { name: N; data: JobPayloads[N] } }[JobName];

/**
 * What "the same request" is for one action (`rescan:<card>`, `restore-role:<backup>`, ...): while
 * its job (and its follow-ups) run, another request with the same intent queues nothing.
 */
export interface IntentSpec {
  key: string;
  /** Who asks (a repeat by the same person is a double click: `quiet` answers it with nothing). */
  userId: string;
  /** How long the intent is held at most when its job never reports back. */
  ttlMs: number;
  /** Buttons: a second click by the same person gets no second answer. Commands always answer. */
  quiet?: boolean;
}

/**
 * An intent's longest life, when its last job never reports back: past a rescan's delayed check
 * (60 s) and a recommendation's polls (5 minutes), with their retries.
 */
export const INTENT_TTL_MS = 10 * 60_000;

/** The intent of `action` on `subject` (a card id, a backup): one job at a time. */
export function intentOf(action: string, subject: string, userId: string, quiet = true): IntentSpec {
  return { key: `${action}:${subject}`, userId, ttlMs: INTENT_TTL_MS, quiet };
}

/**
 * For buttons that open a modal: true for the first click of a person on this button of this card,
 * false for a second one within DOUBLE_CLICK_MS (which then opens nothing and says nothing). A Redis
 * failure lets the click through: opening a dialog changes nothing.
 */
export async function firstClick(
  deps: ListenerDeps,
  button: string,
  cardId: string,
  userId: string,
): Promise<boolean> {
  const holder = { jobId: `open-${button}`, userId, at: deps.now().toISOString() };
  try {
    const claim = await withTimeout(
      deps.intents.claim(`open:${button}:${cardId}:${userId}`, holder, DOUBLE_CLICK_MS),
      ENQUEUE_TIMEOUT_MS,
      'checking for a double click',
    );
    return claim.claimed;
  } catch {
    return true;
  }
}

export interface ActionRequestSpec {
  /** Checked first (a refusal is answered and audited); absent when the caller has checked already. */
  permission?: PermissionCheck;
  /** One job per intent (see IntentSpec); absent for requests that may run side by side. */
  intent?: IntentSpec;
  job: RequestedJob;
  /** Recorded as `requested` once the job is queued. */
  audit?: Omit<AuditEntry, 'at' | 'outcome'>;
  /** Told to the person once the job is queued. */
  accepted: string;
  /** How a Redis outage is answered; by default with an ephemeral note (a modal shows it in the form). */
  onUnqueued?: () => Promise<unknown>;
  /** Runs as soon as the job is queued, before the audit and the answer (a modal closes here). */
  onQueued?: () => Promise<unknown>;
}

export type RequestOutcome = 'refused' | 'unqueued' | 'requested' | 'duplicate';

/**
 * The steps after validation every request shares: check the permission, queue the job within the
 * enqueue deadline, record the request in the audit log and tell the person it is under way.
 */
export async function requestAction(
  deps: ListenerDeps,
  reply: Reply,
  spec: ActionRequestSpec,
): Promise<RequestOutcome> {
  if (spec.permission && !(await permitted(deps, reply, spec.permission))) return 'refused';
  const { job, intent } = spec;
  // The registry makes the id from the request (src/queue/registry.ts): a retry is the same job.
  const id = jobIdOf(job.name, job.data as never) ?? '';
  const unqueued = spec.onUnqueued ?? (() => reply(unavailableNote(REDIS_DOWN_NOTE.queue)));
  if (intent) {
    const holder = { jobId: id, userId: intent.userId, at: deps.now().toISOString() };
    let claim: IntentClaim;
    try {
      claim = await withTimeout(
        deps.intents.claim(intent.key, holder, intent.ttlMs),
        ENQUEUE_TIMEOUT_MS,
        'claiming the request',
      );
    } catch (err) {
      deps.logger.error({ err: (err as Error).message }, 'intent claim failed');
      await unqueued();
      return 'unqueued';
    }
    if (!claim.claimed) {
      await spec.onQueued?.();
      const sameClick = intent.quiet && (!claim.holder || claim.holder.userId === intent.userId);
      if (!sameClick)
        await reply(alreadyRequestedNote({ userId: claim.holder?.userId, at: claim.holder?.at }));
      return 'duplicate';
    }
  }
  const data = intent ? { ...job.data, intent: { key: intent.key, token: id } } : job.data;
  const add = () => enqueueJob({ actions: deps.actions, scan: deps.scan }, job.name, data as never);
  const ok = await queued(deps, add, unqueued);
  if (!ok) {
    if (intent) await deps.intents.release(intent.key, id, 0).catch(() => undefined);
    return 'unqueued';
  }
  await spec.onQueued?.();
  if (spec.audit) {
    await deps.audit.record({ ...spec.audit, outcome: 'requested' }).catch(() => undefined);
  }
  await reply(acceptedNote(spec.accepted));
  return 'requested';
}

/** A modal's submission args, with the Slack client a listener uses to answer after the modal closed. */
export type ViewSubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & {
  client: {
    chat: {
      postEphemeral(args: {
        channel: string;
        user: string;
        text: string;
        blocks?: unknown[];
      }): Promise<unknown>;
    };
  };
};

/**
 * The request a job carries for an action on a stored finding: the card's id and the stored
 * analyzer and region (not what a button or form says), who asked, and where to answer them.
 */
export function findingJobRequest(
  card: RequestedFinding,
  ask: { userId: string; replyChannel?: string; requestTs: string },
): ActionRequest {
  return {
    findingId: card.cardId,
    analyzerArn: card.state.analyzerArn,
    region: card.state.region,
    userId: ask.userId,
    ...(ask.replyChannel ? { replyChannel: ask.replyChannel } : {}),
    requestTs: ask.requestTs,
  };
}

/**
 * A submission of a modal opened from a finding (its id in `meta`): the permission is checked again
 * against the finding's stored owner (the modal may have stayed open while it was taken away, and
 * its metadata is the submitter's to forge), then the request its job carries. Null when refused.
 */
export async function findingModalRequest(
  deps: ListenerDeps,
  reply: Reply,
  input: {
    action: Action;
    meta: Pick<ArchiveModalMetadata, 'f' | 'c'>;
    userId: string;
    viewId: string;
    unavailable?: () => Promise<unknown>;
  },
): Promise<{ base: ActionRequest; card: RequestedFinding } | null> {
  const { meta, userId } = input;
  const card = await permittedOnFinding(deps, reply, {
    action: input.action,
    userId,
    findingId: meta.f,
    ...(input.unavailable ? { unavailable: input.unavailable } : {}),
  });
  if (!card) return null;
  return {
    card,
    base: findingJobRequest(card, { userId, replyChannel: meta.c, requestTs: input.viewId }),
  };
}

/**
 * After a modal closes there is no response_url: answers go as ephemeral messages in the channel the
 * modal was opened from (best effort; none when that channel is unknown).
 */
export function ephemeralReply(args: ViewSubmitArgs, channel: string | undefined, user: string): Reply {
  return async (msg) => {
    if (!channel) return;
    await args.client.chat
      .postEphemeral({ channel, user, text: msg.text, blocks: msg.blocks })
      .catch(() => undefined);
  };
}

/**
 * A modal answers a request in the form itself: a Redis outage shows next to `block` and the form
 * stays open; once the job is queued the form closes. `close` closes it when the request went no
 * further (refused: the reason comes as an ephemeral note). The form is answered once.
 */
export function formAnswers(
  args: ViewSubmitArgs,
  block: string,
  unqueued: string,
): Required<Pick<ActionRequestSpec, 'onUnqueued' | 'onQueued'>> & { close: () => Promise<unknown> } {
  let answered = false;
  const answer = async (response?: Parameters<ViewSubmitArgs['ack']>[0]) => {
    if (answered) return;
    answered = true;
    await args.ack(response);
  };
  return {
    onUnqueued: () => answer({ response_action: 'errors', errors: { [block]: unqueued } }),
    onQueued: () => answer(),
    close: () => answer(),
  };
}
