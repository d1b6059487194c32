// `npm run demo`: starts the AWS and Slack stand-ins with the demo organisation, runs the bot against
// them for one scan, prints every channel's messages as text, then shows that a second scan with no
// changes makes no Slack call and that a resolved finding is updated in place.
import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { FINDING_MESSAGE_EVENT } from '../blocks/ids.ts';
import { renderText } from '../blocks/render.ts';
import { runDigest } from '../jobs/digest.ts';
import { formatDigestResult, formatScanReport } from '../src/cli.ts';
import { formatProblems, type LogLevelName } from '../src/config/env.ts';
import { parseConfigText } from '../src/config/load.ts';
import type { FixKind } from '../src/findings/card-actions.ts';
import { createLogger } from '../src/log.ts';
import {
  type ActionRequest,
  createQueueEvents,
  type FixData,
  type FixUndoData,
  JOBS,
  jobId,
  type SnoozeData,
} from '../src/queue/index.ts';
import { createRuntime } from '../src/runtime.ts';
import { startAwsSandbox } from './aws.ts';
import { demoPolicyGeneration } from './demo-policy.ts';
import { DEMO_ACCOUNTS, DEMO_CHANNELS, DEMO_FINDING_IDS, demoData } from './fixtures/demo-org.ts';
import { ensureRedis, wipePrefix } from './redis.ts';
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
  /** Deactivate key made the key inactive (and the finding resolved); Undo made it active again. */
  keyDeactivated: boolean;
  keyReactivated: boolean;
  /** Remove password deleted alice.admin's console password; Undo gave her a new one. */
  passwordRemoved: boolean;
  passwordRestored: boolean;
  /** Snooze and Show recommendation on the unused-permission finding of app-backend. */
  snoozed: boolean;
  recommended: boolean;
  /** The weekly digest run at the end: channels and owners it went to, addresses Slack did not know. */
  digest: { sentTo: string[]; unknownEmails: string[] };
  /** A least-privilege policy was generated for ci-deployer and posted in its finding's thread. */
  policyGenerated: boolean;
}

/**
 * Triage as the worker runs it after a button: archive a finding with an expiry, delete the unused
 * role ci-deployer (backup first), then restore it. Prints the message and its thread after each.
 */
async function demoTriage(
  rt: ReturnType<typeof createRuntime>,
  aws: Awaited<ReturnType<typeof startAwsSandbox>>,
  slack: Awaited<ReturnType<typeof startSlackSandbox>>,
  out: (line: string) => void,
): Promise<
  Pick<
    DemoResult,
    | 'archived'
    | 'roleDeleted'
    | 'roleRestored'
    | 'roleQuarantined'
    | 'keyDeactivated'
    | 'keyReactivated'
    | 'passwordRemoved'
    | 'passwordRestored'
    | 'snoozed'
    | 'recommended'
  >
> {
  const show = (id: string) => {
    const m = slack.messages.find((x) => x.metadata?.event_payload?.finding_id === id);
    if (!m) return;
    out(renderText({ text: m.text, blocks: m.blocks as never }));
    const thread = m.thread_ts ?? m.ts;
    // The thread's receipts and notes; other finding cards in a summary's thread are not this card's.
    const replies = slack
      .threadReplies(m.channel, thread)
      .filter((x) => x.ts > m.ts && x.metadata?.event_type !== FINDING_MESSAGE_EVENT);
    for (const r of replies) {
      out(
        `    ↳ ${renderText({ text: r.text, blocks: r.blocks as never })
          .split('\n')
          .join('\n      ')}`,
      );
    }
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
    `\nU0BOB clicks Quarantine role on ci-deployer (a deny-all policy, deleted at the end unless Still needed):`,
  );
  await rt.runAction(JOBS.fix, {
    ...(await request(roleId, 'U0BOB', 4)),
    kind: 'quarantine-role',
  } satisfies FixData);
  show(roleId);
  const roleQuarantined = !!(await rt.deps.store.get(roleId))?.quarantineBackupKey;

  /** A one-click fix as the worker runs it after the button, then its Undo from the fix's backup. */
  const fixThenUndo = async (kind: FixKind, id: string, n: number, fixed?: () => void): Promise<void> => {
    await rt.runAction(JOBS.fix, { ...(await request(id, 'U0BOB', n)), kind } satisfies FixData);
    fixed?.();
    show(id);
    const [backup] = await rt.deps.redis.keys(rt.deps.keys.fixBackup(kind, id, '*'));
    out(`\nU0BOB clicks Undo:`);
    if (backup) {
      await rt.runAction(JOBS.fixUndo, {
        ...(await request(id, 'U0BOB', n + 1)),
        kind,
        backupKey: backup,
      } satisfies FixUndoData);
    }
    show(id);
  };

  const keyId = DEMO_FINDING_IDS.unusedAccessKey;
  const keyStatus = () =>
    aws.data.users
      .find((u) => u.account === DEMO_ACCOUNTS.staging && u.name === 'legacy-etl')
      ?.accessKeys?.find((k) => k.id === 'AKIAIOSFODNN7LEGACY1')?.status;
  out(
    `\nU0BOB (admin) clicks Deactivate key on the unused key of legacy-etl; the worker reads the key again, saves its status, makes it inactive; Undo makes it active again, exactly as it was:`,
  );
  let keyDeactivated = false;
  await fixThenUndo('deactivate-key', keyId, 6, () => {
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
  await fixThenUndo('remove-password', passwordId, 10, () => {
    passwordRemoved = !hasPassword();
  });
  const passwordRestored = hasPassword();

  const more = await demoSnoozeAndRecommend(rt, request, show, out);
  return {
    archived,
    roleDeleted,
    roleRestored,
    roleQuarantined,
    keyDeactivated,
    keyReactivated,
    passwordRemoved,
    passwordRestored,
    ...more,
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
  const config = {
    ...parsed.config,
    redis: { ...parsed.config.redis, keyPrefix: `demo${Date.now().toString(36)}:` },
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
  const rt = createRuntime({
    env: { redisUrl: redis.url, slackBotToken: 'xoxb-sandbox-demo', slackApiUrl: slack.apiUrl },
    config,
    // Logs go to stderr, so the demo's report on stdout reads cleanly.
    logger: createLogger({
      level: (opts.logLevel ?? 'warn') as LogLevelName,
      pretty: process.stderr.isTTY === true,
    }),
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXDEMO00001', secretAccessKey: 'sandbox-secret' },
      endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url, tagging: aws.url, s3: aws.url },
      maxAttempts: 3,
    },
  });
  rt.startWorkers();
  try {
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

    out(`\nThe public bucket's policy is fixed; AWS marks its finding RESOLVED. Third scan:`);
    const id = DEMO_FINDING_IDS.publicBucketLogsProd;
    aws.data.findings.update(id, { status: 'RESOLVED', updatedAt: new Date().toISOString() });
    const third = await rt.scanNow({ timeoutMs: 120_000 });
    out(formatScanReport(third));
    const updated = slack.messages.find((m) => m.metadata?.event_payload?.finding_id === id);
    const resolvedUpdate = !!updated && updated.updates > 0;
    if (updated) {
      out(`\nThe message (ts ${updated.ts}) now reads:`);
      out(renderText({ text: updated.text, blocks: updated.blocks as never }));
    }
    const triage = await demoTriage(rt, aws, slack, out);

    const policy = await demoPolicyGeneration(rt, aws, slack, out);

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
      digest: { sentTo: digest.sent.map((x) => x.to), unknownEmails: digest.unknownEmails },
    };
  } finally {
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
