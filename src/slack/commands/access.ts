// The /access slash command: parse, answer read-only verbs from state, enqueue the rest.
// Every reply is ephemeral; malformed input gets what was wrong plus that verb's usage.
import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import {
  auditReply,
  FINDINGS_PAGE_SIZE,
  findingSummaryReply,
  findingsListReply,
  statusReply,
} from '../../../blocks/command-replies.ts';
import { commandErrorMessage, helpMessage } from '../../../blocks/help.ts';
import { notAvailableNote, unavailableNote } from '../../../blocks/receipts.ts';
import { type ActionRequest, JOBS } from '../../queue/index.ts';
import { isRedisUnavailable, REDIS_UNAVAILABLE } from '../../store/errors.ts';
import {
  ENQUEUE_TIMEOUT_MS,
  findingJobRequest,
  intentOf,
  type ListenerDeps,
  ownerOf,
  permitted,
  permittedOnFinding,
  type RequestedJob,
  readerOf,
  requestAction,
  withTimeout,
} from '../listeners/common.ts';
import type { Action } from '../permissions.ts';
import { snoozeRequest } from '../views/snooze-submit.ts';
import { type Command, parseCommand } from './parse.ts';
import { generatePolicyCommand, validatePolicyCommand } from './policy.ts';

type CommandArgs = SlackCommandMiddlewareArgs & Partial<Pick<AllMiddlewareArgs, 'client'>>;
type Msg = { text: string; blocks: unknown[] };

/** Building a digest walks every finding state: more than a Redis round trip, still well bounded. */
const DIGEST_TIMEOUT_MS = 10_000;
/** Reading the audit log for someone who is no admin also reads the owner of each finding it names. */
const AUDIT_TIMEOUT_MS = 5_000;

export function accessCommand(deps: ListenerDeps) {
  return async (args: CommandArgs) => {
    // Ack at once with nothing visible; the answer follows through response_url.
    await args.ack();
    const reply = (msg: Msg) =>
      args.respond({ response_type: 'ephemeral', text: msg.text, blocks: msg.blocks as never });
    const userId = args.command.user_id;
    const parsed = parseCommand(args.command.text ?? '', deps.now());
    if (!parsed.ok) {
      await reply(commandErrorMessage(parsed));
      return;
    }
    const cmd = parsed.command;
    try {
      await handle(deps, cmd, {
        userId,
        channel: args.command.channel_id,
        trigger: args.command.trigger_id,
        reply,
        openView: async (view) => {
          if (!args.client) throw new Error('no Slack client to open a view');
          return args.client.views.open({ trigger_id: args.command.trigger_id, view: view as never });
        },
      });
    } catch (err) {
      deps.logger.error({ err: (err as Error).message, verb: cmd.verb, user: userId }, '/access failed');
      await reply(
        unavailableNote(
          isRedisUnavailable(err)
            ? `/access ${cmd.verb} could not be answered: ${REDIS_UNAVAILABLE}.`
            : `\`/access ${cmd.verb}\` failed: ${(err as Error).message}.`,
        ),
      );
    }
  };
}

async function handle(
  deps: ListenerDeps,
  cmd: Command,
  ctx: {
    userId: string;
    channel: string;
    trigger: string;
    reply: (m: Msg) => Promise<unknown>;
    openView: (view: unknown) => Promise<unknown>;
  },
): Promise<void> {
  const { reply, userId } = ctx;
  switch (cmd.verb) {
    case 'help':
      await reply(helpMessage(cmd.topic));
      return;
    case 'snooze':
      await snoozeCommand(deps, cmd, ctx);
      return;
    case 'show': {
      // Any id of a card shows the card (another analyzer's id of the same problem included).
      const card = await withTimeout(deps.store.getCard(cmd.findingId), ENQUEUE_TIMEOUT_MS, 'reading state');
      if (card) {
        // Someone else's finding (its resource, its archive reason) is for its owners and admins.
        const owner = await ownerOf(deps, card.state);
        const check = { action: 'read' as const, userId, findingId: card.cardId, region: card.state.region };
        if (!(await permitted(deps, reply, { ...check, ...owner }))) return;
      }
      await reply(findingSummaryReply(card?.cardId ?? cmd.findingId, card?.state ?? null));
      return;
    }
    case 'audit': {
      const user = cmd.user?.kind === 'id' ? cmd.user.id : cmd.user?.name;
      const reader = await readerOf(deps, userId);
      // One read of each finding's owner per request, however many entries name it.
      const owned = new Map<string, Promise<boolean>>();
      const mayReadFinding = (id: string) => {
        let hit = owned.get(id);
        if (!hit) {
          hit = deps.store.get(id).then((s) => (s ? reader.mayRead(s) : false));
          owned.set(id, hit);
        }
        return hit;
      };
      const entries = await withTimeout(
        (async () => {
          // The audit trail is kept per card: another id of the same problem finds it too.
          const findingId = cmd.findingId && ((await deps.store.cardIdOf(cmd.findingId)) ?? cmd.findingId);
          return deps.audit.query({
            findingId,
            user,
            last: cmd.last,
            // Entries about findings someone does not own are not theirs to read; their own requests are.
            ...(reader.all
              ? {}
              : {
                  keep: (e) =>
                    e.actor === userId ||
                    (e.findingId ? mayReadFinding(e.findingId) : Promise.resolve(false)),
                }),
          });
        })(),
        AUDIT_TIMEOUT_MS,
        'reading the audit log',
      );
      await reply(
        auditReply(
          entries,
          reader.all ? undefined : 'only entries about your findings and your own requests',
        ),
      );
      return;
    }
    case 'owners':
      await requestAction(deps, reply, {
        job: {
          name: JOBS.owners,
          data: {
            arn: cmd.arn,
            ...(cmd.accountId !== undefined && { accountId: cmd.accountId }),
            userId,
            replyChannel: ctx.channel,
            requestTs: ctx.trigger,
          },
        },
        accepted: 'Checking the routing rules (and the resource’s tags)…',
      });
      return;
    case 'findings': {
      const account = cmd.account
        ? (Object.entries(deps.config.accounts).find(([, a]) => a.name === cmd.account)?.[0] ?? cmd.account)
        : undefined;
      const status = cmd.status ?? 'ACTIVE';
      const createdBefore =
        cmd.olderThanDays !== undefined
          ? new Date(deps.now().getTime() - cmd.olderThanDays * 86_400_000).toISOString()
          : undefined;
      // Other teams' findings are for their owners and admins (docs/architecture.md, security model).
      const reader = await readerOf(deps, userId);
      const start = (cmd.page - 1) * FINDINGS_PAGE_SIZE;
      // Worst first, then oldest; from the store's indexes, only this page is read.
      const listed = await deps.findingsPage(
        {
          findingType: cmd.type,
          accountId: account,
          region: cmd.region,
          severity: cmd.severity,
          status,
          createdBefore,
        },
        {
          offset: start,
          limit: FINDINGS_PAGE_SIZE,
          ...(reader.all ? {} : { keep: (f) => reader.mayRead(f) }),
        },
      );
      const filterText = [
        status.toLowerCase(),
        cmd.type,
        account && `account ${account}`,
        cmd.region,
        cmd.severity,
        cmd.olderThanDays !== undefined && `older than ${cmd.olderThanDays} days`,
        !reader.all && 'yours only',
      ]
        .filter(Boolean)
        .join(', ');
      await reply(
        findingsListReply({
          items: listed.items,
          page: cmd.page,
          total: listed.total,
          truncated: false,
          filterText,
          workspaceUrl: deps.config.slack.workspaceUrl,
        }),
      );
      return;
    }
    case 'status':
      await reply(statusReply(await withTimeout(deps.status(), ENQUEUE_TIMEOUT_MS, 'reading status')));
      return;
    case 'scan': {
      if (cmd.region && !deps.config.regions.includes(cmd.region)) {
        await reply(
          commandErrorMessage({
            verb: 'scan',
            error: `region \`${cmd.region}\` is not in the config (configured: ${deps.config.regions.join(', ')})`,
          }),
        );
        return;
      }
      await requestAction(deps, reply, {
        permission: { action: 'scan', userId },
        job: {
          name: JOBS.scanRun,
          data: {
            regions: cmd.region ? [cmd.region] : undefined,
            requestedBy: userId,
            requestId: `cmd-${ctx.trigger}`,
          },
        },
        audit: { actor: userId, action: 'scan', region: cmd.region },
        accepted: `Scan of ${cmd.region ?? 'every configured region'} queued; findings appear in their channels.`,
      });
      return;
    }
    case 'archive':
    case 'unarchive':
    case 'rescan': {
      const base = await findingRequest(deps, cmd.verb, cmd.findingId, ctx);
      if (!base) return;
      const job: RequestedJob =
        cmd.verb === 'archive'
          ? {
              name: JOBS.archive,
              data: { ...base, reason: cmd.reason, ...(cmd.until ? { until: cmd.until } : {}) },
            }
          : { name: cmd.verb === 'unarchive' ? JOBS.unarchive : JOBS.rescan, data: base };
      await requestAction(deps, reply, {
        intent: intentOf(job.name, base.findingId, userId, false),
        job,
        audit: { actor: userId, action: cmd.verb, findingId: base.findingId, region: base.region },
        accepted: `${cmd.verb === 'archive' ? 'Archiving' : cmd.verb === 'unarchive' ? 'Unarchiving' : 'Rescanning'} ${base.findingId}…`,
      });
      return;
    }
    case 'digest':
      // The channel's digest now (in a DM: the person's own), to the person only; nothing is recorded.
      if (!deps.channelDigest) {
        await reply(notAvailableNote('The digest'));
        return;
      }
      await reply(
        await withTimeout(deps.channelDigest(ctx.channel, userId), DIGEST_TIMEOUT_MS, 'building the digest'),
      );
      return;
    case 'generate-policy':
      await generatePolicyCommand(deps, cmd, ctx);
      return;
    case 'validate':
      await validatePolicyCommand(deps, ctx);
      return;
    case 'rules': {
      // Rules name principals and accounts of every owner's findings: for those who may read all.
      if (!(await permitted(deps, reply, { action: 'read', userId }))) return;
      const canDelete = (await deps.authorize({ action: 'archive-rule', userId })).allowed;
      await requestAction(deps, reply, {
        job: {
          name: JOBS.archiveRulesList,
          data: { userId, replyChannel: ctx.channel, requestTs: ctx.trigger, canDelete },
        },
        accepted: 'Reading the archive rules of every analyzer…',
      });
      return;
    }
    default: {
      const unhandled: never = cmd;
      throw new Error(`no handler for /access ${(unhandled as Command).verb}`);
    }
  }
}

/** `/access snooze <id> --days N --reason "…"`: the same job as the Snooze button's modal. */
async function snoozeCommand(
  deps: ListenerDeps,
  cmd: Extract<Command, { verb: 'snooze' }>,
  ctx: { userId: string; channel: string; trigger: string; reply: (m: Msg) => Promise<unknown> },
): Promise<void> {
  const { reply, userId } = ctx;
  const base = await findingRequest(deps, 'snooze', cmd.findingId, ctx);
  if (!base) return;
  const { job, audit, forDays } = snoozeRequest(base, userId, cmd.days, cmd.reason);
  await requestAction(deps, reply, {
    intent: intentOf(JOBS.snooze, base.findingId, userId, false),
    job,
    audit,
    accepted: `Snoozing the reminders about ${base.findingId} for ${forDays}…`,
  });
}

/**
 * A command on a finding: the permission, checked against the finding's stored owner, then the
 * request its job carries. Null when refused (an unknown finding included: answered and audited).
 */
async function findingRequest(
  deps: ListenerDeps,
  action: Action,
  named: string,
  ctx: { userId: string; channel: string; trigger: string; reply: (m: Msg) => Promise<unknown> },
): Promise<ActionRequest | null> {
  // Judged by the finding's stored owner, not the channel the command was typed in; the request
  // names the card, whichever of its ids the person typed.
  const card = await permittedOnFinding(deps, ctx.reply, { action, userId: ctx.userId, findingId: named });
  if (!card) return null;
  return findingJobRequest(card, { userId: ctx.userId, replyChannel: ctx.channel, requestTs: ctx.trigger });
}

export function registerAccessCommand(app: App, deps: ListenerDeps): void {
  app.command('/access', accessCommand(deps));
}
