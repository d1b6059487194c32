// `npm run demo`: starts the AWS and Slack stand-ins with the demo organisation, runs the bot against
// them for one scan, prints every channel's messages as text, then shows that a second scan with no
// changes makes no Slack call and that a resolved finding is updated in place. Then triage: every
// one-click fix and its Undo, Archive similar and `/access rules`, and Create analyzer are clicked as
// Slack sends the clicks (signed, to the bot's own receiver); each prints what people then see.
import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { ARCHIVE_RULE_MODAL } from '../blocks/archive-rules.ts';
import { ACTION_IDS, FINDING_MESSAGE_EVENT } from '../blocks/ids.ts';
import { renderText } from '../blocks/render.ts';
import { runDigest } from '../jobs/digest.ts';
import { QUARANTINE_POLICY_NAME, QUARANTINE_TAG_KEY } from '../jobs/fixes/specs.ts';
import { formatDigestResult, formatScanReport } from '../src/cli.ts';
import { formatProblems, type LogLevelName } from '../src/config/env.ts';
import { parseConfigText } from '../src/config/load.ts';
import type { FixKind } from '../src/findings/card-actions.ts';
import { createLogger, type Logger } from '../src/log.ts';
import {
  type ActionRequest,
  createQueueEvents,
  JOBS,
  type JobName,
  jobId,
  type SnoozeData,
} from '../src/queue/index.ts';
import { createRuntime } from '../src/runtime.ts';
import { FIX_ACTION_IDS } from '../src/slack/actions/fix-buttons.ts';
import { startAwsSandbox } from './aws.ts';
import { startBotReceiver } from './bot-receiver.ts';
import { demoPolicyGeneration } from './demo-policy.ts';
import { DEMO_ACCOUNTS, DEMO_CHANNELS, DEMO_FINDING_IDS, demoData } from './fixtures/demo-org.ts';
import { ensureRedis, wipePrefix } from './redis.ts';
import type { Dispatcher } from './slack/dispatch.ts';
import { type SandboxMessage, startSlackSandbox } from './slack.ts';

export interface DemoOptions {
  redisUrl?: string;
  out?: (line: string) => void;
  logLevel?: string;
}

export interface DemoResult {
  channels: Record<string, SandboxMessage[]>;
  /** The share two analyzers report under two ids: how many cards it got, and ids under the card. */
  reportedTwice: { ids: number; cards: number; members: number };
  secondScanSlackCalls: number;
  secondScanDetailCalls: number;
  resolvedUpdate: boolean;
  /** The triage flows the demo drives through the worker, and whether each did what it should. */
  archived: boolean;
  roleDeleted: boolean;
  roleRestored: boolean;
  /** Quarantine role put the deny-all policy on the restored ci-deployer and scheduled its end. */
  roleQuarantined: boolean;
  /** Still needed took the deny-all policy and the tag off ci-deployer and cancelled its deletion. */
  roleStillNeeded: boolean;
  /** Deactivate key made the key inactive (and the finding resolved); Undo made it active again. */
  keyDeactivated: boolean;
  keyReactivated: boolean;
  /** Remove password deleted alice.admin's console password; Undo gave her a new one. */
  passwordRemoved: boolean;
  passwordRestored: boolean;
  /** Block public access turned all four settings on for logs-prod (its finding resolved); Undo removed them. */
  publicAccessBlocked: boolean;
  publicAccessRestored: boolean;
  /** Remove external access changed @here-ops' trust policy (its finding resolved); Undo put it back. */
  externalAccessRemoved: boolean;
  externalAccessRestored: boolean;
  /** Snooze and Show recommendation on the unused-permission finding of app-backend. */
  snoozed: boolean;
  recommended: boolean;
  /** Apply recommendation changed app-backend's attached policies; Undo put them back. */
  recommendationApplied: boolean;
  recommendationUndone: boolean;
  /** Archive similar: the count the dialog showed, how many findings AWS archived, and `/access rules` naming the rule. */
  archiveRule: { previewCount: number; archived: number; listed: boolean };
  /** Create analyzer on the ap-southeast-2 notice: the analyzers that region has now. */
  analyzerCreated: string[];
  /** The weekly digest run at the end: channels and owners it went to, addresses Slack did not know. */
  digest: { sentTo: string[]; unknownEmails: string[] };
  /** A least-privilege policy was generated for ci-deployer and posted in its finding's thread. */
  policyGenerated: boolean;
}

/** What the demo's clicks need: the bot's runtime, the Slack stand-in and its side of the receiver. */
interface DemoUi {
  rt: ReturnType<typeof createRuntime>;
  aws: Awaited<ReturnType<typeof startAwsSandbox>>;
  slack: Awaited<ReturnType<typeof startSlackSandbox>>;
  dispatcher: Dispatcher;
  out: (line: string) => void;
}

/**
 * Waits until the job named `name` queued since `since` has finished, with what it queued in turn
 * (a fix's rescan check) and the messages it delivered.
 */
async function settled(rt: DemoUi['rt'], name: JobName, since: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const done = (await rt.queues.actions.getJobs(['completed', 'failed'])).some(
      (j) => j.name === name && j.timestamp >= since,
    );
    const busy = await Promise.all(
      [rt.queues.actions, rt.queues.deliver].map((q) => q.getJobCounts('waiting', 'active', 'prioritized')),
    );
    if (done && busy.every((c) => Object.values(c).every((n) => n === 0))) return;
    if (Date.now() > until) throw new Error(`demo: ${name} did not finish within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The AWS calls answered since the `seen`-th request, in order, a repeated one once (credentials left out). */
function awsCallsSince(ui: DemoUi, seen: number): void {
  const ops = [...new Set(ui.aws.requests.slice(seen).map((r) => r.operation))].filter(
    (op) => op !== 'AssumeRole',
  );
  if (ops.length) ui.out(`  AWS calls: ${ops.join(', ')}`);
}

/** What only `user` was shown since the `seen`-th ephemeral message, indented. */
function ephemeralsSince(ui: DemoUi, user: string, seen: number): void {
  for (const e of ui.slack.ephemerals.slice(seen).filter((x) => x.user === user)) {
    ui.out(
      `  (only ${user} sees) ${renderText({ text: e.text, blocks: e.blocks as never })
        .split('\n')
        .join('\n    ')}`,
    );
  }
}

/**
 * A person clicks the button `actionId` in the newest of `messages` that has it, as Slack sends it:
 * a signed block_actions to the bot's receiver, once the button's confirm dialog (printed) has been
 * answered. Waits for the job the click queues; prints the reply only that person sees.
 */
async function clickButton(
  ui: DemoUi,
  user: string,
  messages: SandboxMessage[],
  actionId: string,
  job: JobName,
  /** Of several such buttons, the one whose value has this in it. */
  valueHas = '',
): Promise<void> {
  type El = {
    type?: string;
    action_id?: string;
    value?: string;
    confirm?: Record<string, { text?: string }>;
  };
  const wanted = (e: El | undefined): e is El =>
    e?.type === 'button' && e.action_id === actionId && (e.value ?? '').includes(valueHas);
  for (const m of [...messages].reverse()) {
    for (const [blockIndex, block] of m.blocks.entries()) {
      const elements = (block.elements as El[] | undefined) ?? [];
      const accessory = block.accessory as El | undefined;
      const elementIndex = elements.findIndex(wanted);
      const button = elementIndex >= 0 ? elements[elementIndex] : accessory;
      if (!wanted(button)) continue;
      const c = button.confirm;
      if (c)
        ui.out(`  Slack asks "${c.title?.text}": ${c.text?.text} [${c.deny?.text}] [${c.confirm?.text}] ✔`);
      const since = Date.now();
      const seen = ui.slack.ephemerals.length;
      const seenAws = ui.aws.requests.length;
      const result = await ui.dispatcher.click({
        user,
        channel: m.channel,
        messageTs: m.ts,
        blockIndex,
        ...(elementIndex >= 0 && { elementIndex }),
      });
      if (!result.delivered)
        throw new Error(`demo: the click on ${actionId} was not delivered (${result.error})`);
      await settled(ui.rt, job, since);
      ephemeralsSince(ui, user, seen);
      awsCallsSince(ui, seenAws);
      return;
    }
  }
  throw new Error(`demo: no ${actionId} button to click`);
}

/**
 * Triage after the buttons: archive a finding with an expiry, delete the unused role ci-deployer
 * (backup first) and restore it, as the worker runs them; then every one-click fix and its Undo,
 * clicked as Slack sends the clicks. Prints the message and its thread after each.
 */
async function demoTriage(
  ui: DemoUi,
): Promise<
  Pick<
    DemoResult,
    | 'archived'
    | 'roleDeleted'
    | 'roleRestored'
    | 'roleQuarantined'
    | 'roleStillNeeded'
    | 'keyDeactivated'
    | 'keyReactivated'
    | 'passwordRemoved'
    | 'passwordRestored'
    | 'publicAccessBlocked'
    | 'publicAccessRestored'
    | 'externalAccessRemoved'
    | 'externalAccessRestored'
    | 'snoozed'
    | 'recommended'
    | 'recommendationApplied'
    | 'recommendationUndone'
  >
> {
  const { rt, aws, slack, out } = ui;
  const cardOf = (id: string) => slack.messages.find((x) => x.metadata?.event_payload?.finding_id === id);
  /** The card's thread receipts and notes; other finding cards in a summary's thread are not this card's. */
  const threadOf = (m: SandboxMessage) =>
    slack
      .threadReplies(m.channel, m.thread_ts ?? m.ts)
      .filter((x) => x.ts > m.ts && x.metadata?.event_type !== FINDING_MESSAGE_EVENT);
  /** The card and its thread; with `after`, only the replies since that one (the others counted). */
  const show = (id: string, after?: string) => {
    const m = cardOf(id);
    if (!m) return;
    out(renderText({ text: m.text, blocks: m.blocks as never }));
    const replies = threadOf(m);
    const earlier = after === undefined ? 0 : replies.filter((r) => r.ts <= after).length;
    if (earlier) out(`    ↳ (${earlier} earlier repl${earlier === 1 ? 'y' : 'ies'}, shown above)`);
    for (const r of replies.slice(earlier)) {
      out(
        `    ↳ ${renderText({ text: r.text, blocks: r.blocks as never })
          .split('\n')
          .join('\n      ')}`,
      );
    }
  };
  /** The card of `id` and its thread, where its buttons are. */
  const surfaceOf = (id: string) => {
    const m = cardOf(id);
    if (!m) throw new Error(`demo: finding ${id} was not posted`);
    return [m, ...threadOf(m)];
  };
  const request = async (id: string, userId: string, n: number) => {
    const s = await rt.deps.store.get(id);
    if (!s) throw new Error(`demo: finding ${id} was not posted`);
    return {
      findingId: id,
      analyzerArn: s.analyzerArn,
      region: s.region,
      userId,
      replyChannel: s.channel,
      requestTs: `demo-${n}`,
    };
  };

  out(`\n${'═'.repeat(100)}\nTriage (what the worker does after the buttons)\n${'═'.repeat(100)}`);
  const trustId = DEMO_FINDING_IDS.roleTrustExternal;
  const until = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  out(`\nU0ALICE archives finding ${trustId}: "vendor audit role, contract VND-7", until ${until}:`);
  await rt.runAction(JOBS.archive, {
    ...(await request(trustId, 'U0ALICE', 1)),
    reason: 'vendor audit role, contract VND-7',
    until,
  });
  show(trustId);
  const archived = aws.data.findings.get(trustId)?.status === 'ARCHIVED';

  const roleId = DEMO_FINDING_IDS.unusedRoleCiDeployer;
  const ciDeployer = () =>
    aws.data.roles.some((r) => r.account === DEMO_ACCOUNTS.prod && r.name === 'ci-deployer');
  out(
    `\nU0BOB (admin) deletes the unused role ci-deployer; the worker checks it again, saves a backup, deletes:`,
  );
  await rt.runAction(JOBS.deleteRole, await request(roleId, 'U0BOB', 2));
  show(roleId);
  const roleDeleted = !ciDeployer();
  const backupKey = (await rt.deps.store.get(roleId))?.backupKey;
  out(`\nU0BOB clicks Restore role:`);
  if (backupKey) await rt.runAction(JOBS.restoreRole, { ...(await request(roleId, 'U0BOB', 3)), backupKey });
  show(roleId);
  const roleRestored = ciDeployer();

  out(
    `\n${'═'.repeat(100)}\nOne-click fixes, clicked in Slack by U0BOB (admin), each with its Undo\n${'═'.repeat(100)}`,
  );
  out(
    `\nU0BOB clicks Quarantine role on ci-deployer (a deny-all policy, deleted at the end unless Still needed):`,
  );
  await clickButton(ui, 'U0BOB', surfaceOf(roleId), FIX_ACTION_IDS['quarantine-role'], JOBS.fix);
  show(roleId);
  const ciDeployerRole = () =>
    aws.data.roles.find((r) => r.account === DEMO_ACCOUNTS.prod && r.name === 'ci-deployer');
  const roleQuarantined =
    !!(await rt.deps.store.get(roleId))?.quarantineBackupKey &&
    !!ciDeployerRole()?.inlinePolicies?.[QUARANTINE_POLICY_NAME];
  const seenQuarantine = surfaceOf(roleId).at(-1)?.ts;
  out(
    `\nU0BOB clicks Still needed on the quarantine receipt: the deny-all policy and the tag come off, and the deletion is cancelled:`,
  );
  await clickButton(ui, 'U0BOB', surfaceOf(roleId), ACTION_IDS.undoFix, JOBS.fixUndo);
  show(roleId, seenQuarantine);
  const roleStillNeeded =
    !ciDeployerRole()?.inlinePolicies?.[QUARANTINE_POLICY_NAME] &&
    !ciDeployerRole()?.tags?.[QUARANTINE_TAG_KEY] &&
    !(await rt.deps.store.get(roleId))?.quarantineBackupKey;

  /** A one-click fix clicked on the card (or its thread), then Undo clicked on the fix's receipt. */
  const fixThenUndo = async (kind: FixKind, id: string, fixed?: () => void): Promise<void> => {
    await clickButton(ui, 'U0BOB', surfaceOf(id), FIX_ACTION_IDS[kind], JOBS.fix);
    fixed?.();
    show(id);
    const seen = surfaceOf(id).at(-1)?.ts;
    out(`\nU0BOB clicks Undo on the receipt:`);
    await clickButton(ui, 'U0BOB', surfaceOf(id), ACTION_IDS.undoFix, JOBS.fixUndo);
    show(id, seen);
  };

  const bucket = () => aws.data.buckets?.['logs-prod']?.publicAccessBlock;
  const bucketId = DEMO_FINDING_IDS.publicBucketLogsProd;
  out(
    `\nU0BOB clicks Block public access on the public bucket logs-prod; the worker reads its settings again, saves them, turns all four on, and asks AWS to rescan (the card resolves); Undo puts back what was there (no configuration at all):`,
  );
  let publicAccessBlocked = false;
  await fixThenUndo('block-public-access', bucketId, () => {
    const b = bucket();
    publicAccessBlocked =
      !!b && Object.values(b).every(Boolean) && aws.data.findings.get(bucketId)?.status === 'RESOLVED';
  });
  const publicAccessRestored = bucket() === null || bucket() === undefined;

  const hereOps = () =>
    JSON.stringify(
      aws.data.roles.find((r) => r.account === DEMO_ACCOUNTS.sandbox && r.name === '@here-ops')
        ?.assumeRolePolicyDocument,
    );
  const trustBefore = hereOps();
  const hereId = DEMO_FINDING_IDS.hostileRoleHere;
  out(
    `\nU0BOB clicks Remove external access on the role @here-ops, trusted by account 999988887777; the worker reads the trust policy again, proves the new one grants nothing new (CheckNoNewAccess), updates it (UpdateAssumeRolePolicy); Undo puts the document back:`,
  );
  let externalAccessRemoved = false;
  await fixThenUndo('remove-external-access', hereId, () => {
    externalAccessRemoved = hereOps() !== trustBefore && aws.data.findings.get(hereId)?.status === 'RESOLVED';
  });
  const externalAccessRestored = hereOps() === trustBefore;

  const keyId = DEMO_FINDING_IDS.unusedAccessKey;
  const keyStatus = () =>
    aws.data.users
      .find((u) => u.account === DEMO_ACCOUNTS.staging && u.name === 'legacy-etl')
      ?.accessKeys?.find((k) => k.id === 'AKIAIOSFODNN7LEGACY1')?.status;
  out(
    `\nU0BOB clicks Deactivate key on the unused key of legacy-etl; the worker reads the key again, saves its status, makes it inactive; Undo makes it active again, exactly as it was:`,
  );
  let keyDeactivated = false;
  await fixThenUndo('deactivate-key', keyId, () => {
    keyDeactivated = keyStatus() === 'Inactive' && aws.data.findings.get(keyId)?.status === 'RESOLVED';
  });
  const keyReactivated = keyStatus() === 'Active';

  const passwordId = DEMO_FINDING_IDS.unusedPassword;
  const hasPassword = () =>
    aws.data.users.some(
      (u) => u.account === DEMO_ACCOUNTS.securityTooling && u.name === 'alice.admin' && !!u.loginProfile,
    );
  out(
    `\nU0BOB clicks Remove password on alice.admin's unused console password; Undo sets a new one that must be changed at first sign-in, sent to U0BOB alone by DM:`,
  );
  let passwordRemoved = false;
  await fixThenUndo('remove-password', passwordId, () => {
    passwordRemoved = !hasPassword();
  });
  const passwordRestored = hasPassword();

  const more = await demoSnoozeAndRecommend(rt, request, show, out);
  const backend = () =>
    JSON.stringify(
      aws.data.roles.find((r) => r.account === DEMO_ACCOUNTS.prod && r.name === 'app-backend')
        ?.attachedPolicies,
    );
  const attachedBefore = backend();
  out(
    `\nU0BOB clicks Apply recommendation on it; the worker reads the recommendation and the attached policies again, saves them, then creates, attaches and detaches as AWS recommends; Undo reverses each step:`,
  );
  let recommendationApplied = false;
  await fixThenUndo('apply-recommendation', DEMO_FINDING_IDS.unusedPermission, () => {
    recommendationApplied = backend() !== attachedBefore;
  });
  const recommendationUndone = backend() === attachedBefore;
  return {
    archived,
    roleDeleted,
    roleRestored,
    roleQuarantined,
    roleStillNeeded,
    keyDeactivated,
    keyReactivated,
    passwordRemoved,
    passwordRestored,
    publicAccessBlocked,
    publicAccessRestored,
    externalAccessRemoved,
    externalAccessRestored,
    recommendationApplied,
    recommendationUndone,
    ...more,
  };
}

/**
 * Archive similar on one of the burst's unused roles: the modal says how many ACTIVE findings the rule
 * would archive, U0BOB names and confirms it, the bot creates and applies it; `/access rules` lists
 * it. Then Create analyzer on the admin channel's notice about ap-southeast-2.
 */
async function demoRulesAndCoverage(
  ui: DemoUi,
): Promise<Pick<DemoResult, 'archiveRule' | 'analyzerCreated'>> {
  const { rt, aws, slack, dispatcher, out } = ui;
  const admin = 'U0BOB';
  const rendered = (m: { text: string; blocks: unknown[] }) =>
    renderText({ text: m.text, blocks: m.blocks as never });
  const indented = (text: string) => `  ${text.split('\n').join('\n  ')}`;

  out(`\n${'═'.repeat(100)}\nArchive similar and archive rules\n${'═'.repeat(100)}`);
  const id = DEMO_FINDING_IDS.burst[0]!;
  const card = slack.messages.find((m) => m.metadata?.event_payload?.finding_id === id);
  if (!card) throw new Error(`demo: finding ${id} was not posted`);
  const active = () => [...aws.data.findings.all()].filter((f) => f.status === 'ACTIVE').length;
  const activeBefore = active();
  out(
    `\nU0BOB clicks Archive similar on the unused role sandbox-experiment-01 (#team-sandbox); the dialog opens at once and a worker fills in what the rule would archive today:`,
  );
  await clickButton(ui, admin, [card], ACTION_IDS.archiveSimilar, JOBS.archiveRulePreview);
  const view = slack.surfaces.stack(admin).at(-1);
  if (!view) throw new Error('demo: Archive similar opened no dialog');
  out(indented(rendered({ text: '', blocks: view.blocks })));
  const previewCount = Number(
    /It would archive (\d+) ACTIVE finding/.exec(JSON.stringify(view.blocks))?.[1] ?? NaN,
  );

  const ruleName = 'unused-sandbox-roles';
  out(
    `\nU0BOB names the rule ${ruleName} and clicks Create and apply; CreateArchiveRule, then ApplyArchiveRule:`,
  );
  const since = Date.now();
  const seen = slack.ephemerals.length;
  const seenAws = aws.requests.length;
  const submitted = await dispatcher.submit(admin, view.id, {
    [ARCHIVE_RULE_MODAL.nameBlock]: { [ARCHIVE_RULE_MODAL.nameAction]: ruleName },
  });
  if (!submitted.delivered) throw new Error(`demo: the rule was not submitted (${submitted.error})`);
  await settled(rt, JOBS.archiveRuleCreate, since);
  ephemeralsSince(ui, admin, seen);
  awsCallsSince(ui, seenAws);
  const receipt = slack
    .threadReplies(card.channel, card.thread_ts ?? card.ts)
    .find((m) => m.text.startsWith(`Archive rule ${ruleName}`));
  if (receipt) out(`    ↳ ${rendered(receipt).split('\n').join('\n      ')}`);
  const archivedNow = activeBefore - active();
  out(`AWS now holds ${archivedNow} fewer ACTIVE findings.`);

  out(`\n${'═'.repeat(100)}\nCoverage: Create analyzer\n${'═'.repeat(100)}`);
  const notice = slack
    .channelMessages(DEMO_CHANNELS.admin)
    .find((m) => /No external-access analyzer in ap-southeast-2/.test(m.text));
  if (!notice) throw new Error('demo: no coverage notice for ap-southeast-2');
  const analyzersBefore = aws.data.analyzers.filter((a) => a.region === 'ap-southeast-2').length;
  out(
    `\nU0BOB clicks Create analyzer for external access on the notice about ap-southeast-2 in ${DEMO_CHANNELS.admin}, then the one for internal access:`,
  );
  await clickButton(ui, admin, [notice], ACTION_IDS.createAnalyzer, JOBS.createAnalyzer, '"k":"external"');
  await clickButton(ui, admin, [notice], ACTION_IDS.createAnalyzer, JOBS.createAnalyzer, '"k":"internal"');

  out(`\n${'═'.repeat(100)}\nFourth scan (as the scheduler runs it):`);
  out(formatScanReport(await rt.scanNow({ timeoutMs: 120_000 })));
  out(`\nThe card of sandbox-experiment-01 now reads:`);
  const after = slack.messages.find((m) => m.metadata?.event_payload?.finding_id === id);
  if (after) out(rendered(after));
  out(`\n${DEMO_CHANNELS.admin} now reads:`);
  for (const m of slack
    .channelMessages(DEMO_CHANNELS.admin)
    .filter((x) => !x.thread_ts || x.thread_ts === x.ts))
    out(`── ${rendered(m)}`);

  out(`\nU0BOB types /access rules in ${DEMO_CHANNELS.admin}:`);
  const listed = Date.now();
  const seenList = slack.ephemerals.length;
  await dispatcher.command(admin, slack.channelId(DEMO_CHANNELS.admin), '/access rules');
  await settled(rt, JOBS.archiveRulesList, listed);
  ephemeralsSince(ui, admin, seenList);
  const listing = slack.ephemerals
    .slice(seenList)
    .map((e) => rendered(e))
    .join('\n');
  const created = aws.data.analyzers.filter((a) => a.region === 'ap-southeast-2');
  return {
    archiveRule: { previewCount, archived: archivedNow, listed: listing.includes(ruleName) },
    analyzerCreated: created.length > analyzersBefore ? created.map((a) => `${a.name} (${a.type})`) : [],
  };
}

/**
 * Snooze a finding's reminders, then ask AWS for a recommendation. The recommendation's checks are
 * delayed jobs (5 s, 10 s, …); the demo promotes each one instead of waiting out its delay.
 */
async function demoSnoozeAndRecommend(
  rt: ReturnType<typeof createRuntime>,
  request: (id: string, userId: string, n: number) => Promise<ActionRequest>,
  show: (id: string) => void,
  out: (line: string) => void,
): Promise<Pick<DemoResult, 'snoozed' | 'recommended'>> {
  const id = DEMO_FINDING_IDS.unusedPermission;
  out(`\nU0ALICE snoozes the reminders about ${id} for 7 days: "scoped-down policy ships in release 42":`);
  await rt.runAction(JOBS.snooze, {
    ...(await request(id, 'U0ALICE', 4)),
    days: 7,
    reason: 'scoped-down policy ships in release 42',
  } satisfies SnoozeData);
  const snoozed = !!(await rt.deps.store.get(id))?.snoozedUntil;

  out(`\nU0ALICE clicks Show recommendation; the worker asks AWS and checks back until it is ready:`);
  const req = await request(id, 'U0ALICE', 5);
  await rt.runAction(JOBS.recommend, req);
  const conn = new Redis({ ...rt.deps.redis.options, maxRetriesPerRequest: null });
  const events = createQueueEvents(conn, rt.deps.config.redis.keyPrefix, 'actions');
  try {
    await events.waitUntilReady();
    for (let n = 1; n <= 10; n++) {
      const poll = await rt.queues.actions.getJob(jobId(JOBS.recommendPoll, id, req.requestTs, String(n)));
      if (!poll) break;
      await poll.promote().catch(() => undefined);
      await poll.waitUntilFinished(events, 30_000);
    }
  } finally {
    await events.close();
    await conn.quit().catch(() => undefined);
  }
  show(id);
  const entries = await rt.deps.audit.query({ findingId: id, last: 5 });
  const recommended = entries.some((e) => e.action === 'recommend' && e.outcome === 'succeeded');
  return { snoozed, recommended };
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const text = await readFile(new URL('./demo-config.yml', import.meta.url), 'utf8');
  const parsed = parseConfigText(text, 'sandbox/demo-config.yml');
  if (!parsed.ok) throw new Error(`demo config is invalid:\n${formatProblems(parsed.problems)}`);
  // A fresh key prefix per run, so the demo always starts from an empty state.
  // U0BOB is the admin who clicks the fixes; the sandbox re-analyzes a resource at once, so a fix's
  // rescan check need not wait (production keeps the default 60 s).
  const config = {
    ...parsed.config,
    redis: { ...parsed.config.redis, keyPrefix: `demo${Date.now().toString(36)}:` },
    permissions: {
      ...parsed.config.permissions,
      admins: { ...parsed.config.permissions.admins, users: ['U0BOB'] },
    },
    fixes: { ...parsed.config.fixes, rescanDelaySeconds: 0 },
  };

  const redis = await ensureRedis(opts.redisUrl ?? 'redis://127.0.0.1:6379');
  const aws = await startAwsSandbox({ data: demoData(new Date()) });
  // #team-gone does not exist: its findings fall back to the default channel.
  const slack = await startSlackSandbox({
    channels: Object.values(DEMO_CHANNELS).filter((c) => c !== DEMO_CHANNELS.gone),
    // Owners whose e-mail tag names a Slack user get the digest by DM; the others are reported once.
    users: [
      { id: 'U0CAROL01', name: 'carol', email: 'carol@example.com' },
      { id: 'U0ERIN001', name: 'erin', email: 'erin@example.com', channels: [DEMO_CHANNELS.payments] },
      { id: 'U0BOB0001', name: 'bob', email: 'bob@example.com', channels: [DEMO_CHANNELS.platform] },
      // The admin who clicks the fixes below; Undo of Remove password sends its new password to him by DM.
      { id: 'U0BOB', name: 'bob-admin', email: 'bob.admin@example.com' },
    ],
  });
  // Logs go to stderr, so the demo's report on stdout reads cleanly.
  const logger: Logger = createLogger({
    level: (opts.logLevel ?? 'warn') as LogLevelName,
    pretty: process.stderr.isTTY === true,
  });
  const rt = createRuntime({
    env: { redisUrl: redis.url, slackBotToken: 'xoxb-sandbox-demo', slackApiUrl: slack.apiUrl },
    config,
    logger,
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXDEMO00001', secretAccessKey: 'sandbox-secret' },
      endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url, tagging: aws.url, s3: aws.url },
      maxAttempts: 3,
    },
  });
  rt.startWorkers();
  let bot: Awaited<ReturnType<typeof startBotReceiver>> | undefined;
  try {
    // The bot's receiver: the demo's clicks reach it as Slack sends them, signed.
    bot = await startBotReceiver({ rt, slack, logger, botToken: 'xoxb-sandbox-demo' });
    const ui: DemoUi = { rt, aws, slack, dispatcher: bot.dispatcher, out };
    out(
      `access-patrol demo: sandbox AWS at ${aws.url}, sandbox Slack at ${slack.url}, Redis at ${redis.url}`,
    );
    out(
      `regions: ${config.regions.join(', ')}; ${aws.data.findings.size} findings in the sandbox organisation\n`,
    );

    const first = await rt.scanNow({ timeoutMs: 120_000 });
    out(formatScanReport(first));
    const channels: Record<string, SandboxMessage[]> = {};
    const names = [...new Set(slack.messages.map((m) => m.channelName ?? m.channel))].sort();
    for (const name of names) {
      const msgs = slack.channelMessages(name);
      channels[name] = msgs;
      out(
        `\n${'═'.repeat(100)}\n${name}: ${msgs.filter((m) => !m.thread_ts || m.thread_ts === m.ts).length} message(s), ${msgs.filter((m) => m.thread_ts && m.thread_ts !== m.ts).length} thread repl(ies)\n${'═'.repeat(100)}`,
      );
      for (const m of msgs) {
        const reply = m.thread_ts && m.thread_ts !== m.ts;
        const body = renderText({ text: m.text, blocks: m.blocks as never });
        out(`${reply ? '    ↳ in thread' : '──'} ts ${m.ts}`);
        out(
          body
            .split('\n')
            .map((l) => (reply ? `    ${l}` : l))
            .join('\n'),
        );
        out('');
      }
    }

    // One problem that two analyzers report under their own ids: one card.
    const twice = [DEMO_FINDING_IDS.reportedTwiceOrg, DEMO_FINDING_IDS.reportedTwiceAccount];
    const twiceCards = slack.messages.filter((m) =>
      twice.includes(m.metadata?.event_payload?.finding_id as never),
    );
    const reportedTwice = {
      ids: twice.length,
      cards: twiceCards.length,
      members: twiceCards[0]
        ? (await rt.deps.store.cardMembers(twiceCards[0].metadata!.event_payload!.finding_id as string))
            .length
        : 0,
    };
    out(
      `\n${'═'.repeat(100)}\nOne problem, two finding ids: the bucket security-tooling-exports is shared outside the organisation; org-external and account-external each report it.\n` +
        `Cards posted: ${reportedTwice.cards} (finding ids under it: ${reportedTwice.members})`,
    );

    out(`\n${'═'.repeat(100)}\nSecond scan, nothing changed in AWS:`);
    const slackBefore = slack.calls.length;
    const detailsBefore = aws.counts().GetFindingV2 ?? 0;
    const second = await rt.scanNow({ timeoutMs: 120_000 });
    out(formatScanReport(second));
    const secondScanSlackCalls = slack.calls.length - slackBefore;
    const secondScanDetailCalls = (aws.counts().GetFindingV2 ?? 0) - detailsBefore;
    out(`Slack calls: ${secondScanSlackCalls}, GetFindingV2 calls: ${secondScanDetailCalls}`);

    out(
      `\nThe queue orders-events no longer grants partner-ingest; AWS marks its finding RESOLVED. Third scan:`,
    );
    const id = DEMO_FINDING_IDS.sqsOrdersEvents;
    aws.data.findings.update(id, { status: 'RESOLVED', updatedAt: new Date().toISOString() });
    const third = await rt.scanNow({ timeoutMs: 120_000 });
    out(formatScanReport(third));
    const updated = slack.messages.find((m) => m.metadata?.event_payload?.finding_id === id);
    const resolvedUpdate = !!updated && updated.updates > 0;
    if (updated) {
      out(`\nThe message (ts ${updated.ts}) now reads:`);
      out(renderText({ text: updated.text, blocks: updated.blocks as never }));
    }
    const triage = await demoTriage(ui);

    const policy = await demoPolicyGeneration(rt, aws, slack, out);
    const rules = await demoRulesAndCoverage(ui);

    out(`\n${'═'.repeat(100)}\nThe weekly digest, run now (as the Monday scheduler would):`);
    const digest = await runDigest(rt.deps);
    out(formatDigestResult(digest));
    const payments = slack
      .channelMessages(DEMO_CHANNELS.payments)
      .filter((m) => m.text.startsWith('Weekly access digest'));
    for (const m of payments) {
      out(`\n${DEMO_CHANNELS.payments} got:`);
      out(renderText({ text: m.text, blocks: m.blocks as never }));
    }
    return {
      channels,
      reportedTwice,
      secondScanSlackCalls,
      secondScanDetailCalls,
      resolvedUpdate,
      ...triage,
      ...policy,
      ...rules,
      digest: { sentTo: digest.sent.map((x) => x.to), unknownEmails: digest.unknownEmails },
    };
  } finally {
    await bot?.app.stop();
    await rt.close();
    await wipePrefix(redis.url, config.redis.keyPrefix);
    await Promise.all([aws.close(), slack.close()]);
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runDemo({ redisUrl: process.env.REDIS_URL }).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`demo failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
