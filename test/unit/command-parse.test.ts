import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandErrorMessage, helpMessage, renderError } from '../../blocks/help.ts';
import { assertWithinLimits } from '../../blocks/limits.ts';
import {
  type Command,
  editDistance,
  parseCommand,
  USAGE,
  VERBS,
  type Verb,
} from '../../src/slack/commands/parse.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const ID = '3f2a9c1e-8b7d-4e6f-a5c4-2d1b0e9f8a7c';
const ROLE = 'arn:aws:iam::123456789012:role/ci-deployer';
const TRAIL = 'arn:aws:cloudtrail:eu-west-1:123456789012:trail/org-trail';

function ok(text: string): Command {
  const r = parseCommand(text, NOW);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${r.error}`);
  return r.command;
}

describe('parseCommand: commands that parse', () => {
  it.each<[string, Command]>([
    ['', { verb: 'help' }],
    ['   \t ', { verb: 'help' }],
    ['help', { verb: 'help' }],
    ['help archive', { verb: 'help', topic: 'archive' }],
    ['HELP Generate-Policy', { verb: 'help', topic: 'generate-policy' }],
    ['findings', { verb: 'findings', page: 1 }],
    [
      'findings --type external --account 123456789012 --region eu-west-1 --severity critical --older-than 30d --status active --page 2',
      {
        verb: 'findings',
        type: 'ExternalAccess',
        account: '123456789012',
        region: 'eu-west-1',
        severity: 'critical',
        olderThanDays: 30,
        status: 'ACTIVE',
        page: 2,
      },
    ],
    ['findings --type unused-key', { verb: 'findings', type: 'UnusedIAMUserAccessKey', page: 1 }],
    ['findings --type UnusedIAMRole', { verb: 'findings', type: 'UnusedIAMRole', page: 1 }],
    ['findings --type=internalaccess', { verb: 'findings', type: 'InternalAccess', page: 1 }],
    ['findings --type unused-password', { verb: 'findings', type: 'UnusedIAMUserPassword', page: 1 }],
    ['findings --type Unused-Permission', { verb: 'findings', type: 'UnusedPermission', page: 1 }],
    [
      'findings --severity HIGH --status Archived',
      { verb: 'findings', severity: 'high', status: 'ARCHIVED', page: 1 },
    ],
    ['findings --status=resolved', { verb: 'findings', status: 'RESOLVED', page: 1 }],
    ['findings --older-than 2w', { verb: 'findings', olderThanDays: 14, page: 1 }],
    ['findings --older-than 12h', { verb: 'findings', olderThanDays: 0.5, page: 1 }],
    ['findings --account payments-prod', { verb: 'findings', account: 'payments-prod', page: 1 }],
    ['findings --region us-gov-west-1', { verb: 'findings', region: 'us-gov-west-1', page: 1 }],
    ['findings --region EU-WEST-1', { verb: 'findings', region: 'eu-west-1', page: 1 }],
    [`show ${ID}`, { verb: 'show', findingId: ID }],
    ['scan', { verb: 'scan' }],
    ['scan eu-central-1', { verb: 'scan', region: 'eu-central-1' }],
    [`archive ${ID} --reason oneword`, { verb: 'archive', findingId: ID, reason: 'oneword' }],
    [
      `archive ${ID} --reason "Shared with our auditor" --until 2027-03-01`,
      { verb: 'archive', findingId: ID, reason: 'Shared with our auditor', until: '2027-03-01' },
    ],
    ["archive abc --reason 'single quoted'", { verb: 'archive', findingId: 'abc', reason: 'single quoted' }],
    ['archive abc --reason “smart double”', { verb: 'archive', findingId: 'abc', reason: 'smart double' }],
    ['archive abc --reason ‘smart single’', { verb: 'archive', findingId: 'abc', reason: 'smart single' }],
    ['archive abc --reason ”both closing”', { verb: 'archive', findingId: 'abc', reason: 'both closing' }],
    ["archive abc --reason 'it's fine'", { verb: 'archive', findingId: 'abc', reason: "it's fine" }],
    ['archive abc --reason=“two words”', { verb: 'archive', findingId: 'abc', reason: 'two words' }],
    ['archive abc --reason="two words"', { verb: 'archive', findingId: 'abc', reason: 'two words' }],
    ['archive abc --reason=don’t', { verb: 'archive', findingId: 'abc', reason: 'don’t' }],
    ['archive --reason x abc', { verb: 'archive', findingId: 'abc', reason: 'x' }],
    // macOS smart punctuation turns `--` into an em or en dash.
    [
      'archive abc —reason x –until 2026-06-16',
      { verb: 'archive', findingId: 'abc', reason: 'x', until: '2026-06-16' },
    ],
    [
      'archive abc --reason "a &amp; b &lt;ok&gt;"',
      { verb: 'archive', findingId: 'abc', reason: 'a & b <ok>' },
    ],
    ['archive abc --reason "--not-a-flag"', { verb: 'archive', findingId: 'abc', reason: '--not-a-flag' }],
    [
      'archive abc --reason x --until 2027-06-15',
      { verb: 'archive', findingId: 'abc', reason: 'x', until: '2027-06-15' },
    ],
    [`unarchive ${ID}`, { verb: 'unarchive', findingId: ID }],
    [`rescan ${ID}`, { verb: 'rescan', findingId: ID }],
    ['owners arn:aws:s3:::payments-exports', { verb: 'owners', arn: 'arn:aws:s3:::payments-exports' }],
    [
      'owners arn:aws:s3:::payments-exports --account 123456789012',
      { verb: 'owners', arn: 'arn:aws:s3:::payments-exports', accountId: '123456789012' },
    ],
    ['audit', { verb: 'audit', last: 20 }],
    [
      `audit --finding ${ID} --user <@U012AB3CD|alice> --last 50`,
      { verb: 'audit', findingId: ID, user: { kind: 'id', id: 'U012AB3CD', name: 'alice' }, last: 50 },
    ],
    ['audit --user <@U012AB3CD>', { verb: 'audit', user: { kind: 'id', id: 'U012AB3CD' }, last: 20 }],
    ['audit --user &lt;@U012AB3CD&gt;', { verb: 'audit', user: { kind: 'id', id: 'U012AB3CD' }, last: 20 }],
    [
      'audit --user @bob.smith --last 200',
      { verb: 'audit', user: { kind: 'name', name: 'bob.smith' }, last: 200 },
    ],
    ['status', { verb: 'status' }],
    [`generate-policy ${ROLE}`, { verb: 'generate-policy', principalArn: ROLE, days: 30, regions: 'all' }],
    [
      `generate-policy arn:aws-us-gov:iam::123456789012:user/ops/alice --days 90 --trail ${TRAIL} --regions eu-west-1,US-EAST-1,eu-west-1`,
      {
        verb: 'generate-policy',
        principalArn: 'arn:aws-us-gov:iam::123456789012:user/ops/alice',
        days: 90,
        daysGiven: true,
        trailArn: TRAIL,
        regions: ['eu-west-1', 'us-east-1'],
      },
    ],
    [
      `generate-policy ${ROLE} --regions ALL`,
      { verb: 'generate-policy', principalArn: ROLE, days: 30, regions: 'all' },
    ],
    ['validate', { verb: 'validate' }],
    ['digest', { verb: 'digest' }],
    ['rules', { verb: 'rules' }],
    [
      `snooze ${ID} --days 7 --reason "fix ships Friday"`,
      { verb: 'snooze', findingId: ID, days: 7, reason: 'fix ships Friday' },
    ],
    [`SNOOZE ${ID} --reason=waiting --days=1`, { verb: 'snooze', findingId: ID, days: 1, reason: 'waiting' }],
    ['  FINDINGS\u00A0 --page\t3  ', { verb: 'findings', page: 3 }],
  ])('%j', (text, command) => {
    expect(ok(text)).toStrictEqual(command);
  });

  it('parses every verb named in USAGE', () => {
    expect(Object.keys(USAGE).sort()).toEqual([...VERBS].sort());
  });
});

const PAST = /^--until must be after today, 2026-06-15 \(got `.*`\)$/;

describe('parseCommand: malformed commands name exactly what was wrong', () => {
  it.each<[string, Verb | undefined, string | RegExp]>([
    // unknown command
    ['fidnings', undefined, 'unknown command `fidnings`; did you mean `findings`?'],
    ['achive abc', undefined, 'unknown command `achive`; did you mean `archive`?'],
    ['gen', undefined, 'unknown command `gen`; did you mean `generate-policy`?'],
    ['xyzzy', undefined, 'unknown command `xyzzy`; try `/access help` for the list of commands'],
    ['--type external', undefined, 'start with a command, not a flag (got `--type`); try `/access help`'],
    ['help nosuch', 'help', /^no command `nosuch` to explain; commands: help, findings, show, /],
    ['help fidnings', 'help', 'no command `fidnings` to explain; did you mean `findings`?'],
    ['help show archive', 'help', '`help` takes at most one argument (command); unexpected `archive`'],
    // missing and extra arguments
    ['archive', 'archive', '`archive` needs a finding id'],
    ['archive abc', 'archive', '`archive` needs --reason "why this access is acceptable"'],
    ['show', 'show', '`show` needs a finding id'],
    ['show a b', 'show', '`show` takes one argument (finding id); unexpected `b`'],
    ['unarchive', 'unarchive', '`unarchive` needs a finding id'],
    [
      'rescan a/b',
      'rescan',
      'finding id must be letters, digits and dashes, at most 64 characters (got `a/b`)',
    ],
    [
      `show ${'a'.repeat(65)}`,
      'show',
      /^finding id must be letters, digits and dashes, at most 64 characters/,
    ],
    ['owners', 'owners', '`owners` needs a resource ARN'],
    ['owners not-an-arn', 'owners', '`owners` needs an ARN starting with arn: (got `not-an-arn`)'],
    [
      'owners arn:aws:s3:::b --account prod',
      'owners',
      '--account must be a 12-digit AWS account id (got `prod`)',
    ],
    ['status now', 'status', '`status` takes no arguments; unexpected `now`'],
    [
      'scan eu-west-1 us-east-1',
      'scan',
      '`scan` takes at most one argument (region); unexpected `us-east-1`',
    ],
    ['scan mars-1', 'scan', 'region must be an AWS region like eu-west-1 (got `mars-1`)'],
    [
      'archive abc --reason two words',
      'archive',
      '`archive` takes one argument (finding id); unexpected `words` (put a reason with spaces in quotes: --reason "…")',
    ],
    // flags
    [
      'findings --bogus 1',
      'findings',
      'unknown flag `--bogus` for `findings`; valid flags: --type, --account, --region, --severity, --older-than, --status, --page',
    ],
    [
      'findings --sevrity high',
      'findings',
      'unknown flag `--sevrity` for `findings`; did you mean `--severity`? Valid flags: --type, --account, --region, --severity, --older-than, --status, --page',
    ],
    ['digest --now', 'digest', '`digest` takes no flags (got `--now`)'],
    ['rules extra', 'rules', '`rules` takes no arguments; unexpected `extra`'],
    ['archive abc --reason', 'archive', '--reason needs a value'],
    ['archive abc --reason= --until 2027-01-01', 'archive', '--reason needs a value'],
    ['archive abc --reason --until 2027-01-01', 'archive', '--reason needs a value'],
    ['archive abc --reason "   "', 'archive', '--reason needs a value'],
    ['archive abc --reason x --reason y', 'archive', '--reason given twice'],
    ['findings --page 1 --PAGE=2', 'findings', '--page given twice'],
    ['archive abc --reason "unterminated', 'archive', 'unterminated quote: `"unterminated` has no closing "'],
    ['archive abc --reason “never closed', 'archive', 'unterminated quote: `“never closed` has no closing “'],
    [
      `archive abc --reason "${'x'.repeat(501)}"`,
      'archive',
      '--reason must be at most 500 characters (got 501)',
    ],
    // values
    ['archive abc --reason x --until 2020-01-01', 'archive', PAST],
    ['archive abc --reason x --until 2026-06-15', 'archive', PAST],
    [
      'archive abc --reason x --until 2027-13-01',
      'archive',
      '--until must be a real date as YYYY-MM-DD, like 2027-03-01 (got `2027-13-01`)',
    ],
    ['archive abc --reason x --until 2027-02-30', 'archive', /^--until must be a real date as YYYY-MM-DD/],
    ['archive abc --reason x --until tomorrow', 'archive', /^--until must be a real date as YYYY-MM-DD/],
    [
      'archive abc --reason x --until 2027-06-16',
      'archive',
      '--until must be at most 365 days ahead, 2027-06-15 at the latest (got `2027-06-16`)',
    ],
    [
      'findings --severity urgent',
      'findings',
      '--severity must be one of critical, high, medium, low, info (got `urgent`)',
    ],
    [
      'findings --older-than 3x',
      'findings',
      '--older-than must be a duration like 30d, 2w or 12h (got `3x`)',
    ],
    [
      'findings --older-than 0d',
      'findings',
      '--older-than must be a duration like 30d, 2w or 12h (got `0d`)',
    ],
    [
      'findings --type bogus',
      'findings',
      '--type must be one of external, internal, unused-role, unused-key, unused-password, unused-permission (got `bogus`)',
    ],
    ['findings --region mars', 'findings', '--region must be an AWS region like eu-west-1 (got `mars`)'],
    ['findings --page 0', 'findings', '--page must be a whole number from 1 (got `0`)'],
    ['findings --page 1.5', 'findings', '--page must be a whole number from 1 (got `1.5`)'],
    ['findings --status open', 'findings', '--status must be one of active, archived, resolved (got `open`)'],
    ['audit --last 500', 'audit', '--last must be a whole number from 1 to 200 (got `500`)'],
    ['audit --user bob', 'audit', '--user must be a Slack user like @alice (got `bob`)'],
    [
      'audit --finding a:b',
      'audit',
      '--finding must be letters, digits and dashes, at most 64 characters (got `a:b`)',
    ],
    [
      'generate-policy arn:aws:s3:::bucket',
      'generate-policy',
      '`generate-policy` needs an IAM role or user ARN like arn:aws:iam::123456789012:role/name (got `arn:aws:s3:::bucket`)',
    ],
    ['generate-policy', 'generate-policy', '`generate-policy` needs a role or user ARN'],
    [
      `generate-policy ${ROLE} --days 120`,
      'generate-policy',
      '--days must be a whole number from 1 to 90 (got `120`)',
    ],
    [
      `generate-policy ${ROLE} --regions eu-west-1,mars`,
      'generate-policy',
      '--regions must be all or AWS regions separated by commas, like eu-west-1,us-east-1 (`mars` is not a region)',
    ],
    [
      `generate-policy ${ROLE} --regions eu-west-1,`,
      'generate-policy',
      '--regions must be all or AWS regions separated by commas, like eu-west-1,us-east-1 (got `eu-west-1,`)',
    ],
    [
      `generate-policy ${ROLE} --trail arn:aws:s3:::trail-bucket`,
      'generate-policy',
      /^--trail must be a CloudTrail trail ARN like arn:aws:cloudtrail:eu-west-1:123456789012:trail\/name \(got `arn:aws:s3:::trail-bucket`\)$/,
    ],
    ['snooze', 'snooze', '`snooze` needs a finding id'],
    [`snooze ${ID} --reason x`, 'snooze', '`snooze` needs --days 1, 7 or 30'],
    [`snooze ${ID} --days 14 --reason x`, 'snooze', '--days must be 1, 7 or 30 (got `14`)'],
    [`snooze ${ID} --days 7d --reason x`, 'snooze', '--days must be 1, 7 or 30 (got `7d`)'],
    [`snooze ${ID} --days 7`, 'snooze', '`snooze` needs --reason "why the reminders can wait"'],
    [`snooze ${ID} --days 7 --reason`, 'snooze', '--reason needs a value'],
    [
      `snooze ${ID} --days 7 --reason fix ships Friday`,
      'snooze',
      '`snooze` takes one argument (finding id); unexpected `ships` (put a reason with spaces in quotes: --reason "…")',
    ],
    [
      `snooze ${ID} --days 7 --reason "${'x'.repeat(501)}"`,
      'snooze',
      '--reason must be at most 500 characters (got 501)',
    ],
    [`snooze ${ID} --until 2027-01-01`, 'snooze', /^unknown flag `--until` for `snooze`/],
    // echoed input cannot break out of its code span
    [
      'show a`b',
      'show',
      'finding id must be letters, digits and dashes, at most 64 characters (got `a\u02CBb`)',
    ],
    [
      `owners ${'x'.repeat(100)}`,
      'owners',
      `\`owners\` needs an ARN starting with arn: (got \`${'x'.repeat(59)}…\`)`,
    ],
  ])('%j', (text, verb, error) => {
    const r = parseCommand(text, NOW);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.verb).toBe(verb);
    if (typeof error === 'string') expect(r.error).toBe(error);
    else expect(r.error).toMatch(error);
    // Backticks always pair up, so the renderer can show the marked parts as code.
    expect(r.error.split('`').length % 2).toBe(1);
  });

  it('never throws and always pairs its backticks, whatever is typed', () => {
    const words = fc.constantFrom(
      ...VERBS,
      '--reason',
      '--until=',
      '--page',
      '"',
      '“',
      "'",
      '`',
      '&lt;!channel&gt;',
      '<@U1>',
      'abc',
      '2027-01-01',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(words, fc.string()), { maxLength: 8 }), (parts) => {
        const r = parseCommand(parts.join(' '), NOW);
        if (!r.ok) {
          expect(r.error.split('`').length % 2).toBe(1);
          assertWithinLimits(commandErrorMessage(r));
        }
      }),
    );
  });

  it('counts a swap of two letters as one edit', () => {
    expect(editDistance('fidnings', 'findings')).toBe(1);
    expect(editDistance('scan', 'show')).toBe(3);
  });
});

describe('helpMessage', () => {
  it('lists every command within Slack limits', () => {
    const m = helpMessage();
    assertWithinLimits(m);
    const json = JSON.stringify(m.blocks);
    for (const v of VERBS) expect(json).toContain(`/access ${v}`);
    expect(m.text).toBe(`/access commands: ${VERBS.join(', ')}`);
  });

  it.each(VERBS)('explains %s with its usage and examples', (verb) => {
    const m = helpMessage(verb);
    assertWithinLimits(m);
    expect(m.text).toBe(USAGE[verb]);
    expect(m.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: `/access ${verb}` } });
  });

  it('shows the flags of archive and an example that parses', () => {
    const m = helpMessage('archive');
    expect(m.blocks[2]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: '• --reason: why this access is acceptable; quote it when it has spaces\n• --until: when the finding comes back, a date within a year (YYYY-MM-DD)',
      },
    });
    expect(
      ok('archive 3f2a9c1e-8b7d-4e6f-a5c4-2d1b0e9f8a7c --reason "Shared with our auditor"'),
    ).toMatchObject({ verb: 'archive' });
  });

  it('falls back to the overview for an unknown or hostile topic, echoing nothing', () => {
    const m = helpMessage('<!channel>');
    assertWithinLimits(m);
    expect(m).toEqual(helpMessage());
  });
});

describe('commandErrorMessage', () => {
  it('shows the error and the usage of the verb', () => {
    const r = parseCommand('findings --severity urgent', NOW);
    if (r.ok) throw new Error('expected an error');
    const m = commandErrorMessage(r);
    assertWithinLimits(m);
    expect(m.text).toBe(
      ':warning: --severity must be one of critical, high, medium, low, info (got `urgent`)',
    );
    expect(m.blocks).toEqual([
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: ':warning: --severity must be one of critical, high, medium, low, info (got `urgent`)',
        },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '*Usage*\n`/access findings [--type T] [--account A] [--region R] [--severity S] [--older-than 30d] [--status active|archived|resolved] [--page N]`\nList findings, filtered and paged.',
        },
      },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: '`/access help findings` for flags and examples.' }],
      },
    ]);
  });

  it('shows the general help when the command is unknown', () => {
    const r = parseCommand('fidnings', NOW);
    if (r.ok) throw new Error('expected an error');
    const m = commandErrorMessage(r);
    assertWithinLimits(m);
    expect(m.blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: ':warning: unknown command `fidnings`; did you mean `findings`?' },
    });
    expect(m.blocks.slice(1)).toEqual(helpMessage().blocks);
  });

  it.each([
    '<!channel> please',
    '&lt;!channel&gt;',
    'show <!here>',
    'owners <https://evil.example|click me>',
    'archive abc --reason x --until "<!everyone>"',
    'audit --user <@U1|x> --last <!channel>',
  ])('echoes %j without a mention, link or formatting', (text) => {
    const r = parseCommand(text, NOW);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const m = commandErrorMessage(r);
    assertWithinLimits(m);
    const all = m.text + JSON.stringify(m.blocks);
    expect(all).not.toMatch(/<!|<@|<https?:|<#/);
  });

  it('keeps echoed formatting characters inside a code span, where Slack does not format', () => {
    const r = parseCommand('findings --severity *bold*~strike~', NOW);
    if (r.ok) throw new Error('expected an error');
    expect(commandErrorMessage(r).blocks[0]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: ':warning: --severity must be one of critical, high, medium, low, info (got `*bold*~strike~`)',
      },
    });
  });

  it('escapes an error with unpaired backticks as a whole', () => {
    expect(renderError('odd ` <!here>')).toBe('odd \u02CB &lt;!here&gt;');
    expect(renderError('got `<!channel>` *x*')).toBe('got `&lt;!channel&gt;` \u2217x\u2217');
  });

  it('stays within limits for a huge input', () => {
    const r = parseCommand(`owners ${'<!here>'.repeat(2000)}`, NOW);
    if (r.ok) throw new Error('expected an error');
    assertWithinLimits(commandErrorMessage(r));
    assertWithinLimits(commandErrorMessage({ verb: 'archive', error: 'x'.repeat(10_000) }));
  });
});
