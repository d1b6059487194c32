import { type FindingView, findingButtons, findingMessage } from '../../../blocks/finding.ts';
import type { Finding, FindingType } from '../../../src/findings/model.ts';
import { assessSeverity } from '../../../src/findings/severity.ts';
import {
  F_NOW,
  F_UNUSED_ANALYZER,
  makeCrossAccountFinding,
  makeFinding,
  makeRoute,
} from '../../factories/finding.ts';
import type { GoldenCases } from '../golden.ts';
import { CONSOLE, INJECTION, LONG, USER } from './inputs.ts';

function view(finding: Finding, rest: Partial<FindingView> = {}): FindingView {
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

const ofType = (findingType: FindingType, rest: Partial<FindingView> = {}) =>
  findingMessage(view(makeFinding({ findingType }), rest));

/** 300 principals with long, hostile names: the grant list is cut with a count of the rest. */
const manyPrincipals = makeFinding({
  resourceArn: `arn:aws:s3:::${INJECTION}-${LONG}`,
  details: {
    kind: 'externalAccess',
    isPublic: false,
    grants: Array.from({ length: 300 }, (_, i) => ({
      principal: { AWS: `arn:aws:iam::${String(200000000000 + i)}:role/${INJECTION}-${i}` },
      actions: ['s3:GetObject', 's3:PutObject'],
      conditions: {},
      sources: ['POLICY'],
    })),
  },
});

export const findingCases: GoldenCases = {
  findingMessage: {
    'public-bucket': () => ofType('ExternalAccess'),
    'cross-account-key': () => findingMessage(view(makeCrossAccountFinding())),
    'internal-access': () => ofType('InternalAccess'),
    'unused-role': () => ofType('UnusedIAMRole'),
    'unused-access-key': () => ofType('UnusedIAMUserAccessKey'),
    'unused-password': () => ofType('UnusedIAMUserPassword'),
    'unused-permission': () => ofType('UnusedPermission'),
    'resolved-console-link-only': () =>
      ofType('ExternalAccess', { state: { status: 'RESOLVED', at: '2025-02-28T10:00:00.000Z' } }),
    'archived-by-a-person': () =>
      ofType('UnusedIAMRole', {
        state: {
          status: 'ARCHIVED',
          at: '2025-02-27T10:00:00.000Z',
          by: USER,
          reason: `vendor share ${INJECTION}`,
          until: '2025-06-01',
        },
      }),
    snoozed: () =>
      ofType('UnusedIAMRole', {
        state: {
          status: 'ACTIVE',
          snoozed: { by: USER, until: '2025-03-08T12:00:00.000Z', reason: `on call ${INJECTION}` },
        },
      }),
    'quarantined-with-still-needed': () =>
      ofType('UnusedIAMRole', {
        state: {
          status: 'ACTIVE',
          quarantined: {
            by: USER,
            until: '2025-03-31',
            backupKey: 'ap:backup:fix:quarantine-role:f-1:2025-03-01T10:00:00.000Z',
          },
        },
      }),
    'unused-role-delete-and-quarantine': () => ofType('UnusedIAMRole', { unusedRole: 'both' }),
    'role-deleted-from-slack': () =>
      ofType('UnusedIAMRole', {
        state: {
          status: 'ACTIVE',
          deleted: {
            by: USER,
            at: '2025-03-01T11:00:00.000Z',
            backupKey: 'backup:role:111111111111:ci-deployer:2025-03-01T11:00:00.000Z',
          },
        },
      }),
    'read-only-service-linked-analyzer': () =>
      findingMessage(
        view(
          makeFinding({
            findingType: 'UnusedPermission',
            analyzerArn: F_UNUSED_ANALYZER,
            managedBy: 'securityhubv2.amazonaws.com',
          }),
        ),
      ),
    'many-hostile-principals-truncated': () =>
      findingMessage(
        view(manyPrincipals, {
          accountName: INJECTION,
          route: makeRoute({ channel: '#team-x', rule: INJECTION, reason: LONG, ownerEmail: INJECTION }),
        }),
      ),
  },
  findingButtons: {
    'digest-overdue-entry': () =>
      findingButtons(makeFinding({ findingType: 'UnusedIAMRole' }), CONSOLE, 'overdue_0'),
  },
};
