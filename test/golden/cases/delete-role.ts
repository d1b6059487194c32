import {
  backupSnippet,
  deleteRoleBlockedModal,
  deleteRoleConfirmModal,
  deleteRoleLoadingModal,
  deletionReceipt,
  restoreReceipt,
} from '../../../blocks/delete-role.ts';
import type { RoleBackup, RoleInspection } from '../../../src/aws/iam.ts';
import { F_UNUSED_ANALYZER } from '../../factories/finding.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION, LONG } from './inputs.ts';

const meta = {
  f: '0f1e2d3c-0000-4000-8000-000000000003',
  a: F_UNUSED_ANALYZER,
  r: 'eu-west-1',
  c: 'C0PAY0001',
  t: '1700000001.000100',
};

const inspection = (overrides: Partial<RoleInspection> = {}): RoleInspection => ({
  accountId: '111111111111',
  roleName: 'ci-deployer',
  arn: 'arn:aws:iam::111111111111:role/ci-deployer',
  roleId: 'AROAEXAMPLEID',
  path: '/',
  lastUsed: { date: new Date('2024-11-24T08:00:00.000Z'), region: 'eu-west-1' },
  assumeRolePolicyDocument: '{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"}}]}',
  tags: [{ Key: 'team', Value: 'platform' }],
  attachedPolicies: [{ name: 'ReadOnlyAccess', arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
  inlinePolicies: [{ name: 'ecr-push', document: '{"Statement":[]}' }],
  instanceProfiles: [
    { name: 'ci-deployer', arn: 'arn:aws:iam::111111111111:instance-profile/ci-deployer', path: '/' },
  ],
  isServiceLinked: false,
  ...overrides,
});

const backup: RoleBackup = {
  version: 1,
  accountId: '222222222222',
  roleName: 'ci-deployer',
  arn: 'arn:aws:iam::222222222222:role/ci-deployer',
  path: '/',
  description: 'CI <deploys> & *more*',
  assumeRolePolicyDocument: '{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"}}]}',
  tags: [{ Key: 'team', Value: 'platform' }],
  inlinePolicies: [
    {
      name: 'ecr-push',
      document: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] }),
    },
  ],
  attachedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
  instanceProfileNames: [],
  takenAt: '2026-12-01T10:00:00.000Z',
};

export const deleteRoleCases: GoldenCases = {
  deleteRoleLoadingModal: {
    typical: () => deleteRoleLoadingModal(meta),
  },
  deleteRoleConfirmModal: {
    typical: () => deleteRoleConfirmModal({ meta, inspection: inspection(), minUnusedDays: 90 }),
    'never-used-nothing-attached': () =>
      deleteRoleConfirmModal({
        meta,
        inspection: inspection({
          lastUsed: {},
          tags: [],
          attachedPolicies: [],
          inlinePolicies: [],
          instanceProfiles: [],
        }),
        minUnusedDays: 90,
      }),
    'many-hostile-policies-listed-with-more': () =>
      deleteRoleConfirmModal({
        meta,
        inspection: inspection({
          roleName: `${INJECTION}${LONG}`,
          attachedPolicies: Array.from({ length: 30 }, (_, i) => ({
            name: `p${i}`,
            arn: `arn:aws:iam::aws:policy/${INJECTION}-${i}`,
          })),
          inlinePolicies: Array.from({ length: 20 }, (_, i) => ({
            name: `${INJECTION}-${i}`,
            document: '{}',
          })),
        }),
        minUnusedDays: 30,
      }),
  },
  deleteRoleBlockedModal: {
    'protection-tag': () =>
      deleteRoleBlockedModal(meta, 'it carries the protection tag `access-patrol:protect`'),
    'hostile-long-reason': () => deleteRoleBlockedModal(meta, `${INJECTION} ${LONG}`),
  },
  backupSnippet: {
    'reads-back-as-json': () =>
      backupSnippet(backup, 'ap:backup:role:222222222222:ci-deployer:2026-12-01T10:00:00.000Z'),
    'long-backup-split': () =>
      backupSnippet(
        {
          ...backup,
          attachedPolicyArns: Array.from({ length: 200 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`),
        },
        'k',
      ),
  },
  deletionReceipt: {
    done: () =>
      deletionReceipt({
        userId: 'U0BOB',
        roleName: 'legacy-ci',
        done: ['detached arn:aws:iam::aws:policy/ReadOnlyAccess', 'deleted role legacy-ci'],
        notDone: [],
      }),
    'stopped-hostile-error': () =>
      deletionReceipt({
        userId: 'U0BOB',
        roleName: 'legacy-ci',
        done: [],
        notDone: ['delete inline policy <!channel>'],
        error: 'DeleteConflict: <!here> must detach',
      }),
  },
  restoreReceipt: {
    complete: () =>
      restoreReceipt({ userId: 'U0BOB', roleName: 'legacy-ci', done: ['created role'], notDone: [] }),
    incomplete: () =>
      restoreReceipt({
        userId: 'U0BOB',
        roleName: 'legacy-ci',
        done: ['created role'],
        notDone: ['attach arn:aws:iam::123456789012:policy/gone'],
        error: 'NoSuchEntity: policy gone',
      }),
  },
};
