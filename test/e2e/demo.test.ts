// `npm run demo` end to end: the sandbox AWS and Slack servers, the real bot with real Redis and
// BullMQ, and the demo organisation. Asserts what a person would see in each channel.
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../sandbox/demo.ts';
import { DEMO_CHANNELS, DEMO_FINDING_IDS } from '../../sandbox/fixtures/demo-org.ts';
import { REDIS_URL } from '../helpers/runtime.ts';
import { displayedCode, liveMarkup } from '../helpers/slack-display.ts';

describe('npm run demo', () => {
  it('routes, summarises and escapes the demo organisation, then rescans without Slack calls', async () => {
    const lines: string[] = [];
    const result = await runDemo({ redisUrl: REDIS_URL, out: (l) => lines.push(l), logLevel: 'silent' });
    const output = lines.join('\n');

    // Routing by channel tag, by team tag, and fallback for a channel that does not exist.
    const topLevel = (ch: string) =>
      (result.channels[ch] ?? []).filter((m) => !m.thread_ts || m.thread_ts === m.ts);
    expect(topLevel(DEMO_CHANNELS.platform).length).toBeGreaterThan(0);
    expect(topLevel(DEMO_CHANNELS.payments).length).toBeGreaterThan(0);
    expect(result.channels[DEMO_CHANNELS.gone]).toBeUndefined();
    expect(output).toMatch(/#team-gone: .*fell back to #sec-alerts \(channel_not_found\)/);

    // The 14-role burst is one summary with its findings in the thread.
    const sandbox = result.channels[DEMO_CHANNELS.sandbox] ?? [];
    const parents = sandbox.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
    expect(parents).toHaveLength(1);
    expect(parents[0]!.text).toMatch(/new access findings/);
    expect(
      sandbox.filter((m) => m.thread_ts === parents[0]!.ts && m.ts !== parents[0]!.ts).length,
    ).toBeGreaterThanOrEqual(14);

    // Admin channel: the region without analyzers and the FAILED analyzer, once each.
    const admin = result.channels[DEMO_CHANNELS.admin] ?? [];
    expect(admin.some((m) => /ap-southeast-2/.test(m.text))).toBe(true);
    expect(admin.some((m) => /failed/i.test(m.text))).toBe(true);
    // Coverage as AWS works: ap-southeast-2 lacks the regional kinds (an organisation external
    // analyzer; an account-level internal one, the organisation's one being in us-east-1); the one
    // organisation unused-access analyzer covers every region, so no region is told to add one.
    const missing = admin.find((m) => /No external-access analyzer in ap-southeast-2/.test(m.text));
    const missingJson = JSON.stringify(missing?.blocks);
    expect(missingJson).toContain(
      '--region ap-southeast-2 --analyzer-name access-patrol-external --type ORGANIZATION`',
    );
    expect(missingJson).toContain('--type ACCOUNT_INTERNAL_ACCESS');
    expect(JSON.stringify(admin.map((m) => [m.text, m.blocks]))).not.toMatch(/unused/i);

    // Hostile strings never become mentions or links. Rich text is never parsed: a `<!channel>` in
    // an identifier there is shown as written and stays inert (read as the workspace page renders it).
    const messages = Object.values(result.channels).flat();
    const rich = (m: { blocks: unknown[] }) =>
      m.blocks.filter((b) => (b as { type?: string }).type === 'rich_text');
    for (const m of messages) expect(liveMarkup(rich(m))).toEqual([]);
    expect(messages.flatMap((m) => displayedCode(rich(m)))).toContain('<!channel>-exports');
    const everything = JSON.stringify(
      messages.map((m) => [m.text, m.blocks.filter((b) => (b as { type?: string }).type !== 'rich_text')]),
    );
    // (the only mentions are the bot's own, of the people who acted, e.g. <@U0ALICE>)
    expect(everything).not.toMatch(/<!channel>|<!here>|<!everyone>|<@U024BE7LH|<https:\/\/evil/);
    for (const mention of everything.match(/<@[A-Z0-9]+/g) ?? [])
      expect(['<@U0ALICE', '<@U0BOB']).toContain(mention);
    expect(everything).toContain('&lt;!channel&gt;-exports');

    // The service-linked analyzer's finding and the archived one are not posted.
    const ids = Object.values(result.channels)
      .flat()
      .map((m) => m.metadata?.event_payload?.finding_id);
    expect(ids).not.toContain(DEMO_FINDING_IDS.securityHubFinding);
    expect(ids).not.toContain(DEMO_FINDING_IDS.archivedBucket);

    // One problem reported by two analyzers under two ids is one card, with both ids under it.
    expect(result.reportedTwice).toEqual({ ids: 2, cards: 1, members: 2 });
    expect(output).toMatch(/Cards posted: 1 \(finding ids under it: 2\)/);

    expect(result.secondScanSlackCalls).toBe(0);
    expect(result.secondScanDetailCalls).toBe(0);
    expect(result.resolvedUpdate).toBe(true);

    // Triage through the worker: archive with an expiry, delete the unused role, restore it.
    expect(result).toMatchObject({
      archived: true,
      roleDeleted: true,
      roleRestored: true,
      roleQuarantined: true,
      keyDeactivated: true,
      keyReactivated: true,
      passwordRemoved: true,
      passwordRestored: true,
    });
    expect(output).toMatch(/\*Archived \d{4}-\d{2}-\d{2} by\* @U0ALICE: vendor audit role/);
    expect(output).toMatch(/restored role `ci-deployer` from its backup/);
    expect(output).toMatch(/🚧 \*Quarantined by\* @U0BOB \*until \d{4}-\d{2}-\d{2}\*/);
    expect(output).toMatch(/\[Still needed\]/);

    // Snooze and Show recommendation on app-backend's unused permissions, through the worker.
    expect(result).toMatchObject({ snoozed: true, recommended: true });
    expect(output).toMatch(
      /💤 \*Snoozed by\* @U0ALICE \*until \d{4}-\d{2}-\d{2}\*: scoped-down policy ships/,
    );
    expect(output).toMatch(/\[Show recommendation\] \[Unsnooze\]/);
    expect(output).toMatch(
      /\*1\.\* Create policy with this document to replace `arn:aws:iam::222222222222:policy\//,
    );
    expect(output).toMatch(/\*2\.\* Detach policy `arn:aws:iam::222222222222:policy\//);
    // The weekly digest at the end: every owner channel, and a DM to owners Slack knows by e-mail.
    expect(result.digest.sentTo).toEqual(
      expect.arrayContaining([DEMO_CHANNELS.payments, DEMO_CHANNELS.platform, DEMO_CHANNELS.default]),
    );
    expect(result.digest.sentTo).toEqual(expect.arrayContaining(['erin@example.com']));
    expect(result.digest.unknownEmails).toEqual(expect.arrayContaining(['dave@example.com']));
    expect(output).toMatch(/#team-payments got:\n=== WEEKLY ACCESS DIGEST: #TEAM-PAYMENTS ===/);
    // A least-privilege policy for ci-deployer, generated through the queue and posted in its thread.
    expect(result.policyGenerated).toBe(true);
    expect(output).toMatch(/Keeps 4 of 18 actions/);
    expect(output).toContain('CheckNoNewAccess: PASS');
  });
});
