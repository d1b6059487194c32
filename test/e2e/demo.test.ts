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

    const section = (from: string, to: string) => {
      const start = output.indexOf(from);
      const end = output.indexOf(to, start + 1);
      expect(start).toBeGreaterThan(-1);
      expect(end).toBeGreaterThan(start);
      return output.slice(start, end);
    };
    // Triage: archive with an expiry, delete the unused role, restore it, quarantine it.
    expect(result).toMatchObject({
      archived: true,
      roleDeleted: true,
      roleRestored: true,
      roleQuarantined: true,
      roleStillNeeded: true,
      keyDeactivated: true,
      keyReactivated: true,
      passwordRemoved: true,
      passwordRestored: true,
    });
    expect(output).toMatch(/\*Archived \d{4}-\d{2}-\d{2} by\* @U0ALICE: vendor audit role/);
    expect(output).toMatch(/restored role `ci-deployer` from its backup/);
    expect(output).toMatch(/🚧 \*Quarantined by\* @U0BOB \*until \d{4}-\d{2}-\d{2}\*/);
    expect(output).toMatch(/\[Still needed\]/);
    const stillNeeded = section('U0BOB clicks Still needed', 'U0BOB clicks Block public access');
    expect(stillNeeded).toContain('Slack asks "Is this role still needed?"');
    expect(stillNeeded).toMatch(/AWS calls: (.*, )?DeleteRolePolicy, (.*, )?UntagRole/);
    expect(stillNeeded).toMatch(/↳ ↩️ @U0BOB said it is still needed/);

    // Every one-click fix is clicked as Slack sends it (signed, to the bot's receiver, after its confirm
    // dialog), gets its receipt in the card's thread, and its Undo puts back what was there.
    expect(result).toMatchObject({
      publicAccessBlocked: true,
      publicAccessRestored: true,
      externalAccessRemoved: true,
      externalAccessRestored: true,
      recommendationApplied: true,
      recommendationUndone: true,
    });
    const bpa = section('U0BOB clicks Block public access', 'U0BOB clicks Remove external access');
    expect(bpa).toContain(
      'Slack asks "Block public access?": Turn on all four Block Public Access settings of bucket logs-prod',
    );
    expect(bpa).toContain('(only U0BOB sees) ⏳ Blocking public access');
    // The AWS calls a click made, in order (each named once): the re-read, the change, the rescan.
    expect(bpa).toMatch(
      /AWS calls: (.*, )?GetPublicAccessBlock, (.*, )?PutPublicAccessBlock, (.*, )?StartResourceScan/,
    );
    expect(bpa).toContain('↳ 🛠️ @U0BOB blocked public access to `bucket logs-prod`.');
    expect(bpa).toMatch(
      /\*Before\*\n\s+\(no Block Public Access configuration\)\n\s+\*After\*\n\s+\{\n\s+"BlockPublicAcls": true,\n\s+"IgnorePublicAcls": true,\n\s+"BlockPublicPolicy": true,\n\s+"RestrictPublicBuckets": true\n\s+\}/,
    );
    expect(bpa).toMatch(/✅ \*Resolved \d{4}-\d{2}-\d{2}\*\n🔴 \*S3 bucket `logs-prod` is public\*/);
    expect(bpa).toContain('↳ ✅ Rescan done: AWS no longer reports this access. Resolved.');
    expect(bpa).toContain(
      '↳ ↩️ @U0BOB undid the fix: put back the Block Public Access settings of `bucket logs-prod`.',
    );
    expect(bpa).toContain('DeletePublicAccessBlock on bucket logs-prod: it had no configuration before');
    expect(bpa).toMatch(
      /\*After\*\n\s+\(no Block Public Access configuration\)\n\s+↳ 🔄 Rescan done: the access is still there\./,
    );

    const rea = section('U0BOB clicks Remove external access', 'U0BOB clicks Deactivate key');
    expect(rea).toMatch(/AWS calls: (.*, )?GetRole, (.*, )?CheckNoNewAccess, (.*, )?UpdateAssumeRolePolicy/);
    expect(rea).toContain('↳ 🛠️ @U0BOB removed external access from the trust policy of `role @here-ops`.');
    const allow = /"Effect": "Allow",\n\s+"Principal": \{\n\s+"AWS": "arn:aws:iam::999988887777:root"/;
    const deny = /"Effect": "Deny",\n\s+"Principal": \{\n\s+"AWS": "arn:aws:iam::999988887777:root"/;
    const [fixPart, undoPart] = rea.split('U0BOB clicks Undo on the receipt:') as [string, string];
    expect(fixPart.split('*After*')[0]).toMatch(allow);
    expect(fixPart.split('*After*')[1]).toMatch(deny);
    expect(undoPart).toMatch(/AWS calls: (.*, )?GetRole, (.*, )?UpdateAssumeRolePolicy/);
    expect(undoPart).toContain('↳ ↩️ @U0BOB undid the fix: restored the trust policy of `role @here-ops`.');
    expect(undoPart.split('*After*')[1]).toMatch(allow);

    const apply = section('U0BOB clicks Apply recommendation', 'U0ALICE clicks Generate policy');
    expect(apply).toContain('Slack asks "Apply the recommendation?"');
    expect(apply).toContain("↳ 🛠️ @U0BOB applied AWS's recommendation to `role app-backend`.");
    expect(apply).toMatch(/AWS calls: (.*, )?CreatePolicy, (.*, )?AttachRolePolicy, (.*, )?DetachRolePolicy/);
    expect(apply).toMatch(
      /• CreatePolicy app-backend-recommended-\S+; attached arn:aws:iam::222222222222:policy\/app-backend-recommended-\S+ to role app-backend; detached arn:aws:iam::222222222222:policy\/app-backend-permissions from role app-backend/,
    );
    expect(apply).toContain('↳ ↩️ @U0BOB undid the fix: put back the policies of `role app-backend`.');
    expect(apply).toMatch(
      /• attached arn:aws:iam::222222222222:policy\/app-backend-permissions again; detached arn:aws:iam::222222222222:policy\/app-backend-recommended-\S+; DeletePolicy app-backend-recommended-/,
    );

    // Undo of Remove password sends the new password to U0BOB by DM, and says so in plain words.
    expect(output).toContain(
      '• sent the new password to the person who clicked Undo only, by direct message',
    );
    expect(output).not.toContain('sending the new password: reset it in the IAM console');

    // Archive similar: the dialog's count of ACTIVE findings, the rule made and applied, /access rules.
    expect(result.archiveRule).toEqual({ previewCount: 15, archived: 15, listed: true });
    expect(output).toContain(
      '*It would archive 15 ACTIVE findings today* (this one included), through `org-unused` (us-east-1).',
    );
    expect(output).toMatch(/Rule name: \[similar-unusediamrole-[0-9a-f]{8}\]/);
    expect(output).toMatch(/AWS calls: (.*, )?CreateArchiveRule, (.*, )?ApplyArchiveRule/);
    expect(output).toContain(
      '↳ 🗄️ @U0BOB created the archive rule `unused-sandbox-roles` in `org-unused` (us-east-1) and applied it: 15 ACTIVE findings matched',
    );
    expect(output).toMatch(/The card of sandbox-experiment-01 now reads:\n🗄️ \*Archived \d{4}-\d{2}-\d{2}\*/);
    expect(output).toContain('*`unused-sandbox-roles`*: matches 0 active and 15 archived findings');

    // Create analyzer on the coverage notice, then the next scan reports the region covered.
    expect(result.analyzerCreated).toEqual([
      'access-patrol-external (ORGANIZATION)',
      'access-patrol-internal (ACCOUNT_INTERNAL_ACCESS)',
    ]);
    expect(output).toContain(
      '(only U0BOB sees) ✅ @U0BOB created the external-access analyzer `access-patrol-external` (`ORGANIZATION`) in ap-southeast-2.',
    );
    expect(output).toContain(
      '── ✅ Resolved in ap-southeast-2: the bot has an analyzer of every expected regional type again.',
    );

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
