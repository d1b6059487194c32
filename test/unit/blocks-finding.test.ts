import { describe, expect, it } from 'vitest';
import {
  type FindingView,
  findingConsoleUrl,
  findingHeadline,
  findingMessage,
  findingMessageKey,
  findingMessageWithKey,
  SEVERITY_EMOJI,
} from '../../blocks/finding.ts';
import { ACTION_IDS, decodeFindingRef } from '../../blocks/ids.ts';
import { assertWithinLimits } from '../../blocks/limits.ts';
import type { FindingType } from '../../src/findings/model.ts';
import { assessSeverity } from '../../src/findings/severity.ts';
import {
  F_EXTERNAL_ACCOUNT,
  F_NOW,
  makeCrossAccountFinding,
  makeFinding,
  makeRoute,
} from '../factories/finding.ts';
import { displayedBlocks, displayedCode } from '../helpers/slack-display.ts';

const CONSOLE = 'https://console.aws.amazon.com';

function view(overrides: Partial<FindingView> & { type?: FindingType } = {}): FindingView {
  const { type, ...rest } = overrides;
  const finding = rest.finding ?? makeFinding({ findingType: type ?? 'ExternalAccess' });
  return {
    finding,
    severity: assessSeverity(finding),
    route: makeRoute({ rule: 'team-data', reason: 'tag team=data', ownerEmail: 'data@example.com' }),
    accountName: 'prod-main',
    consoleUrl: CONSOLE,
    now: F_NOW,
    ...rest,
  };
}

function buttons(v: FindingView): string[] {
  const m = findingMessage(v);
  const actions = m.blocks.find((b) => b.type === 'actions');
  if (actions?.type !== 'actions') throw new Error('no actions block');
  return actions.elements.map((e) => ('action_id' in e ? (e.action_id ?? '') : ''));
}

describe('findingMessage per finding type', () => {
  const cases: [string, FindingView, string, string[]][] = [
    [
      'public external access',
      view(),
      'S3 bucket `logs-prod` is public',
      [
        ACTION_IDS.openConsole,
        ACTION_IDS.archive,
        ACTION_IDS.archiveSimilar,
        ACTION_IDS.rescan,
        ACTION_IDS.blockPublicAccess,
        ACTION_IDS.snooze,
      ],
    ],
    [
      'cross-account external access',
      view({ finding: makeCrossAccountFinding() }),
      `KMS key \`1234abcd-12ab-34cd-56ef-1234567890ab\` is shared with account ${F_EXTERNAL_ACCOUNT}`,
      [
        ACTION_IDS.openConsole,
        ACTION_IDS.archive,
        ACTION_IDS.archiveSimilar,
        ACTION_IDS.rescan,
        ACTION_IDS.snooze,
      ],
    ],
    [
      'internal access',
      view({ type: 'InternalAccess' }),
      'KMS key `1234abcd-12ab-34cd-56ef-1234567890ab` is accessible to role `data-reader` in account 222222222222',
      [ACTION_IDS.openConsole, ACTION_IDS.archive, ACTION_IDS.archiveSimilar, ACTION_IDS.snooze],
    ],
    [
      'unused role',
      view({ type: 'UnusedIAMRole' }),
      'Role `ci-deployer` unused for 97 days',
      [
        ACTION_IDS.openConsole,
        ACTION_IDS.archive,
        ACTION_IDS.archiveSimilar,
        ACTION_IDS.generatePolicy,
        ACTION_IDS.quarantineRole,
        ACTION_IDS.snooze,
      ],
    ],
    [
      'unused role with roles.unusedRole delete',
      view({ type: 'UnusedIAMRole', unusedRole: 'delete' }),
      'Role `ci-deployer` unused for 97 days',
      [
        ACTION_IDS.openConsole,
        ACTION_IDS.archive,
        ACTION_IDS.archiveSimilar,
        ACTION_IDS.generatePolicy,
        ACTION_IDS.deleteRole,
        ACTION_IDS.snooze,
      ],
    ],
    [
      'unused access key',
      view({ type: 'UnusedIAMUserAccessKey' }),
      'Access key `AKIAIOSFODNN7EXAMPLE` of user `bob` unused for 120 days',
      [
        ACTION_IDS.openConsole,
        ACTION_IDS.archive,
        ACTION_IDS.archiveSimilar,
        ACTION_IDS.deactivateKey,
        ACTION_IDS.snooze,
      ],
    ],
    [
      'unused password',
      view({ type: 'UnusedIAMUserPassword' }),
      'Password of user `alice` has never been used',
      [
        ACTION_IDS.openConsole,
        ACTION_IDS.archive,
        ACTION_IDS.archiveSimilar,
        ACTION_IDS.removePassword,
        ACTION_IDS.snooze,
      ],
    ],
    [
      'unused permission',
      view({ type: 'UnusedPermission' }),
      'Role `app-backend` has unused permissions in 3 services',
      [
        ACTION_IDS.openConsole,
        ACTION_IDS.archive,
        ACTION_IDS.archiveSimilar,
        ACTION_IDS.generatePolicy,
        ACTION_IDS.recommend,
        ACTION_IDS.snooze,
      ],
    ],
  ];

  it.each(cases)('%s: headline and buttons', (_name, v, headline, expected) => {
    const m = findingMessage(v);
    assertWithinLimits(m);
    // The headline reads as written (identifiers between backticks above), each identifier in code.
    const [first] = displayedBlocks(m.blocks);
    expect(first).toBe(`${SEVERITY_EMOJI[v.severity.severity]} ${headline.replace(/`/g, '')}`);
    const ids = [...headline.matchAll(/`([^`]+)`/g)].map((x) => x[1]);
    expect(displayedCode(m.blocks.slice(0, 1))).toEqual(ids);
    expect(buttons(v)).toEqual(expected);
  });

  it('puts a ref to the finding in every action button value', () => {
    const m = findingMessage(view({ type: 'UnusedIAMRole', unusedRole: 'both' }));
    const actions = m.blocks.find((b) => b.type === 'actions');
    if (actions?.type !== 'actions') throw new Error('no actions');
    for (const e of actions.elements) {
      if (e.type !== 'button' || e.url !== undefined) continue;
      expect(decodeFindingRef(e.value ?? '')).toEqual({
        f: '0f1e2d3c-0000-4000-8000-000000000003',
        a: 'arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/org-unused',
        r: 'eu-west-1',
      });
    }
    const del = actions.elements.find((e) => 'action_id' in e && e.action_id === ACTION_IDS.deleteRole);
    expect(del).toMatchObject({ style: 'danger', confirm: { style: 'danger' } });
    const quarantine = actions.elements.find(
      (e) => 'action_id' in e && e.action_id === ACTION_IDS.quarantineRole,
    );
    expect(quarantine).toMatchObject({ style: 'danger', confirm: { style: 'danger' } });
  });

  it('says "never used" and "1 day" where it should', () => {
    const never = makeFinding({ findingType: 'UnusedIAMRole', details: { kind: 'unusedRole' } });
    expect(findingHeadline(never, F_NOW).mrkdwn).toBe('Role `ci-deployer` has never been used');
    const oneDay = makeFinding({
      findingType: 'UnusedIAMUserPassword',
      details: { kind: 'unusedPassword', lastAccessed: '2025-02-28T11:00:00.000Z' },
    });
    expect(findingHeadline(oneDay, F_NOW).mrkdwn).toBe('Password of user `alice` unused for 1 day');
  });

  it('names several external accounts and non-account principals', () => {
    const several = makeCrossAccountFinding({
      details: {
        kind: 'externalAccess',
        isPublic: false,
        grants: [
          { principal: { AWS: '222233334444' }, actions: ['kms:Decrypt'], conditions: {}, sources: [] },
          {
            principal: { AWS: 'arn:aws:iam::555566667777:role/reader' },
            actions: ['kms:Decrypt'],
            conditions: {},
            sources: [],
          },
        ],
      },
    });
    expect(findingHeadline(several, F_NOW).text).toBe(
      'KMS key 1234abcd-12ab-34cd-56ef-1234567890ab is shared with 2 external accounts',
    );
    const federated = makeFinding({
      resourceArn: 'arn:aws:iam::111111111111:role/web-identity',
      resourceType: 'AWS::IAM::Role',
      details: {
        kind: 'externalAccess',
        isPublic: false,
        grants: [
          {
            principal: { Federated: 'cognito-identity.amazonaws.com' },
            actions: ['sts:AssumeRoleWithWebIdentity'],
            conditions: { 'cognito-identity.amazonaws.com:aud': 'eu-west-1:abc' },
            sources: ['POLICY'],
          },
        ],
      },
    });
    expect(findingHeadline(federated, F_NOW).mrkdwn).toBe(
      'Role `web-identity` is shared with `cognito-identity.amazonaws.com`',
    );
  });

  it('derives short names from ARNs per resource type', () => {
    const name = (resourceType: string, resourceArn: string) =>
      findingHeadline(makeFinding({ resourceType, resourceArn }), F_NOW).text;
    expect(name('AWS::Lambda::Function', 'arn:aws:lambda:eu-west-1:111111111111:function:resize')).toBe(
      'Lambda function resize is public',
    );
    expect(name('AWS::SQS::Queue', 'arn:aws:sqs:eu-west-1:111111111111:jobs')).toBe(
      'SQS queue jobs is public',
    );
    expect(
      name('AWS::SecretsManager::Secret', 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf'),
    ).toBe('Secret db-AbCdEf is public');
    expect(name('AWS::IAM::Role', 'arn:aws:iam::111111111111:role/service-role/ci_deployer')).toBe(
      'Role ci_deployer is public',
    );
    expect(name('AWS::Lambda::LayerVersion', 'arn:aws:lambda:eu-west-1:111111111111:layer:shared:3')).toBe(
      'Lambda layer shared is public',
    );
    expect(name('AWS::Glue::Database', 'arn:aws:glue:eu-west-1:111111111111:database/sales')).toBe(
      'Glue Database sales is public',
    );
  });

  it('links to the console page for each kind of finding', () => {
    expect(findingConsoleUrl(CONSOLE, makeFinding())).toBe(
      'https://console.aws.amazon.com/access-analyzer/home?region=eu-west-1#/findings/details/0f1e2d3c-0000-4000-8000-000000000001',
    );
    expect(findingConsoleUrl(`${CONSOLE}/`, makeFinding({ findingType: 'UnusedIAMRole' }))).toBe(
      'https://console.aws.amazon.com/access-analyzer/home?region=eu-west-1#/unused-access-findings?resource=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fci-deployer',
    );
  });
});

describe('findingMessage state', () => {
  it('resolved: first line says so, only the console link remains', () => {
    const v = view({ state: { status: 'RESOLVED', at: '2025-02-28T10:00:00.000Z' } });
    const m = findingMessage(v);
    expect(displayedBlocks(m.blocks)[0]?.split('\n')[0]).toBe('✅ Resolved 2025-02-28');
    expect(m.text).toBe('✅ Resolved: [CRITICAL] S3 bucket logs-prod is public (111111111111, eu-west-1)');
    expect(buttons(v)).toEqual([ACTION_IDS.openConsole]);
  });

  it('archived: first line says so, Unarchive replaces the other buttons', () => {
    const v = view({ type: 'UnusedIAMRole', state: { status: 'ARCHIVED', at: '2025-02-27T10:00:00.000Z' } });
    const m = findingMessage(v);
    expect(displayedBlocks(m.blocks)[0]?.split('\n')[0]).toBe('🗄️ Archived 2025-02-27');
    expect(buttons(v)).toEqual([ACTION_IDS.openConsole, ACTION_IDS.unarchive]);
  });

  it('uses finding.status when no state is given', () => {
    const finding = makeFinding({ findingType: 'UnusedIAMRole', status: 'ARCHIVED' });
    expect(buttons(view({ finding }))).toEqual([ACTION_IDS.openConsole, ACTION_IDS.unarchive]);
  });

  it('state ACTIVE overrides an archived finding', () => {
    const finding = makeFinding({ status: 'ARCHIVED' });
    const v = view({ finding, state: { status: 'ACTIVE' } });
    expect(buttons(v)).toEqual([
      ACTION_IDS.openConsole,
      ACTION_IDS.archive,
      ACTION_IDS.archiveSimilar,
      ACTION_IDS.rescan,
      ACTION_IDS.blockPublicAccess,
      ACTION_IDS.snooze,
    ]);
    expect(findingMessage(v).text.startsWith('[CRITICAL]')).toBe(true);
  });
});

describe('findingMessageKey', () => {
  it('is 16 hex characters and deterministic', () => {
    const k = findingMessageKey(view());
    expect(k).toMatch(/^[0-9a-f]{16}$/);
    expect(findingMessageKey(view())).toBe(k);
    expect(JSON.stringify(findingMessage(view()))).toBe(JSON.stringify(findingMessage(view())));
  });

  it('does not change when a day passes (age, unused-for days)', () => {
    for (const type of ['ExternalAccess', 'UnusedIAMRole'] as const) {
      const today = view({ type });
      const tomorrow = view({ type, now: new Date(F_NOW.getTime() + 86_400_000) });
      expect(findingMessage(tomorrow)).not.toEqual(findingMessage(today));
      expect(findingMessageKey(tomorrow)).toBe(findingMessageKey(today));
    }
  });

  it('changes when a principal changes', () => {
    const a = makeCrossAccountFinding();
    const b = makeCrossAccountFinding({
      details: {
        kind: 'externalAccess',
        isPublic: false,
        grants: [
          {
            principal: { AWS: '123412341234' },
            actions: ['kms:Decrypt', 'kms:DescribeKey'],
            conditions: {},
            sources: ['POLICY'],
          },
        ],
      },
    });
    expect(findingMessageKey(view({ finding: b }))).not.toBe(findingMessageKey(view({ finding: a })));
  });

  // Every stored card holds this key: a different value for an unchanged message would make an
  // upgraded bot update every card once. These values are what the key has always been.
  it('keeps the value stored cards hold for the same message', () => {
    const keys: Record<string, string> = {};
    for (const type of [
      'ExternalAccess',
      'InternalAccess',
      'UnusedIAMRole',
      'UnusedIAMUserAccessKey',
      'UnusedIAMUserPassword',
      'UnusedPermission',
    ] as const)
      keys[type] = findingMessageKey(view({ type }));
    keys.cross = findingMessageKey(view({ finding: makeCrossAccountFinding() }));
    keys.archived = findingMessageKey(
      view({
        type: 'UnusedIAMRole',
        state: { status: 'ARCHIVED', at: '2025-02-27T10:00:00.000Z', by: 'U123' },
      }),
    );
    keys.snoozed = findingMessageKey(
      view({
        state: { status: 'ACTIVE', snoozed: { by: 'U123', until: '2025-03-10', reason: 'migrating' } },
      }),
    );
    expect(keys).toEqual({
      ExternalAccess: 'f474eb04364d991a',
      InternalAccess: '0e8369e74b693603',
      UnusedIAMRole: 'a4d37cbea4832c1f',
      UnusedIAMUserAccessKey: '546935929798bda0',
      UnusedIAMUserPassword: '153cbba482412ad8',
      UnusedPermission: '96788651236b2a58',
      cross: '4a921ff90b91f86a',
      archived: '42d020dbbad6c0b2',
      snoozed: 'ea30aea2a271ac09',
    });
  });

  it('findingMessageWithKey gives the message and the key of the same view', () => {
    const later = new Date(F_NOW.getTime() + 400 * 86_400_000);
    for (const v of [
      view(),
      view({ type: 'UnusedIAMRole', now: later }),
      view({ type: 'UnusedIAMUserPassword', state: { status: 'RESOLVED', at: '2025-02-28T10:00:00.000Z' } }),
      view({ finding: makeCrossAccountFinding(), now: later }),
    ]) {
      const both = findingMessageWithKey(v);
      expect(both.message).toEqual(findingMessage(v));
      expect(both.fingerprint).toBe(findingMessageKey(v));
      expect(both.fingerprint).toBe(findingMessageKey({ ...v, now: F_NOW }));
    }
  });

  it('changes with status and with last use', () => {
    const base = findingMessageKey(view({ type: 'UnusedIAMRole' }));
    expect(findingMessageKey(view({ type: 'UnusedIAMRole', state: { status: 'ARCHIVED' } }))).not.toBe(base);
    const used = makeFinding({
      findingType: 'UnusedIAMRole',
      details: { kind: 'unusedRole', lastAccessed: '2025-01-01T00:00:00.000Z' },
    });
    expect(findingMessageKey(view({ finding: used }))).not.toBe(base);
  });
});
