// The AWS page's view of the sandbox and the changes it makes, as Access Analyzer would follow them.
import { describe, expect, it } from 'vitest';
import {
  addAnalyzer,
  consoleState,
  makeBucketPublic,
  removePublicGrant,
  roleDefinition,
  useRoleNow,
} from '../../sandbox/aws-console.ts';
import {
  DEMO_ACCOUNTS,
  DEMO_ANALYZERS,
  DEMO_FINDING_IDS,
  demoData,
} from '../../sandbox/fixtures/demo-org.ts';

const NOW = new Date('2026-12-01T12:00:00.000Z');

describe('AWS page actions on the sandbox', () => {
  it('making a bucket public adds one ACTIVE public finding; removing the grant resolves it', () => {
    const data = demoData(NOW);
    const arn = 'arn:aws:s3:::payments-reports';
    const before = data.findings.size;
    const id = makeBucketPublic(data, arn, NOW);
    expect(makeBucketPublic(data, arn, NOW)).toBe(id);
    expect(data.findings.size).toBe(before + 1);
    expect(data.findings.get(id)).toMatchObject({
      analyzerArn: DEMO_ANALYZERS.usExternal,
      resource: arn,
      findingType: 'ExternalAccess',
      status: 'ACTIVE',
      createdAt: NOW.toISOString(),
    });
    expect(consoleState(data).buckets.find((b) => b.arn === arn)).toMatchObject({ public: true });

    const later = new Date(NOW.getTime() + 60_000);
    expect(removePublicGrant(data, arn, later)).toEqual([id]);
    expect(data.findings.get(id)).toMatchObject({ status: 'RESOLVED', updatedAt: later.toISOString() });
    expect(consoleState(data).buckets.find((b) => b.arn === arn)).toMatchObject({ public: false });
  });

  it('a service-linked analyzer’s finding does not make a bucket public on the page', () => {
    const state = consoleState(demoData(NOW));
    expect(state.buckets.find((b) => b.name === 'securityhub-managed-bucket')).toMatchObject({
      public: false,
    });
    expect(state.buckets.find((b) => b.name === 'logs-prod')).toMatchObject({ public: true });
  });

  it('using a role resolves its unused-role finding and records the use', () => {
    const data = demoData(NOW);
    expect(useRoleNow(data, DEMO_ACCOUNTS.prod, 'ci-deployer', NOW)).toEqual([
      DEMO_FINDING_IDS.unusedRoleCiDeployer,
    ]);
    expect(data.findings.get(DEMO_FINDING_IDS.unusedRoleCiDeployer)?.status).toBe('RESOLVED');
    expect(data.roles.find((r) => r.name === 'ci-deployer')?.lastUsed).toEqual({
      date: NOW.toISOString(),
      region: 'us-east-1',
    });
    expect(() => useRoleNow(data, DEMO_ACCOUNTS.prod, 'no-such-role', NOW)).toThrow(/no role no-such-role/);
  });

  it('adds an analyzer once per region and kind', () => {
    const data = demoData(NOW);
    const arn = addAnalyzer(data, 'ap-southeast-2', 'external', NOW);
    expect(addAnalyzer(data, 'ap-southeast-2', 'external', NOW)).toBe(arn);
    expect(data.analyzers.filter((a) => a.region === 'ap-southeast-2')).toEqual([
      expect.objectContaining({ arn, type: 'ORGANIZATION', status: 'ACTIVE', name: 'org-external' }),
    ]);
    expect(() => addAnalyzer(data, 'mars-north-1', 'external', NOW)).toThrow(/unknown region/);
  });

  it('describes a role without what IAM assigns itself, so a restored role compares equal', () => {
    const data = demoData(NOW);
    const role = data.roles.find((r) => r.name === 'old-migration-role')!;
    const def = roleDefinition(data, role);
    expect(def).toMatchObject({
      name: 'old-migration-role',
      instanceProfiles: ['migration-runner'],
      attachedPolicies: [
        'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
        'arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole',
      ],
    });
    const recreated = { ...role, roleId: 'AROANEWID', createDate: NOW.toISOString(), lastUsed: undefined };
    expect(roleDefinition(data, recreated)).toEqual(def);
  });
});
