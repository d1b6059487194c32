import { describe, expect, it } from 'vitest';
import { assessCoverage, type CoverageInput } from '../../src/findings/coverage.ts';
import { type AnalyzerInfo, analyzerKindOf } from '../../src/findings/model.ts';

const ADMIN = '111111111111';
function analyzer(
  region: string,
  name: string,
  type: string,
  extra: Partial<AnalyzerInfo> = {},
): AnalyzerInfo {
  return {
    arn: `arn:aws:access-analyzer:${region}:${ADMIN}:analyzer/${name}`,
    name,
    type,
    kind: analyzerKindOf(type),
    region,
    status: 'ACTIVE',
    ...extra,
  };
}
const SECURITY_HUB = 'securityhubv2.amazonaws.com';
const input = (listings: CoverageInput['listings'], over: Partial<CoverageInput> = {}): CoverageInput => ({
  listings,
  complete: true,
  expected: ['external', 'internal', 'unused'],
  configuredRegions: listings.map((l) => l.region),
  ...over,
});

describe('assessCoverage', () => {
  it('asks for external and internal access in every region and for unused access once', () => {
    const c = assessCoverage(
      input([
        {
          region: 'us-east-1',
          analyzers: [
            analyzer('us-east-1', 'ext', 'ORGANIZATION'),
            analyzer('us-east-1', 'int', 'ORGANIZATION_INTERNAL_ACCESS'),
            analyzer('us-east-1', 'unused', 'ORGANIZATION_UNUSED_ACCESS'),
          ],
        },
        { region: 'eu-west-1', analyzers: [analyzer('eu-west-1', 'ext', 'ORGANIZATION')] },
        { region: 'ap-southeast-2', analyzers: [] },
      ]),
    );
    expect(c.organization).toBe(true);
    expect(c.regional).toEqual([
      { region: 'us-east-1', missing: [] },
      {
        region: 'eu-west-1',
        missing: [
          {
            kind: 'internal',
            type: 'ACCOUNT_INTERNAL_ACCESS',
            orgInternalElsewhere: expect.objectContaining({ name: 'int' }),
          },
        ],
      },
      {
        region: 'ap-southeast-2',
        missing: [
          { kind: 'external', type: 'ORGANIZATION' },
          expect.objectContaining({ kind: 'internal', type: 'ACCOUNT_INTERNAL_ACCESS' }),
        ],
      },
    ]);
    expect(c.unused).toEqual({ zone: { kind: 'organization', adminAccount: ADMIN }, state: 'ok' });
    expect(c.duplicateUnused).toEqual([]);
  });

  it('suggests ACCOUNT types when the organisation has no analyzers in this account', () => {
    const c = assessCoverage(
      input([{ region: 'eu-west-1', analyzers: [analyzer('eu-west-1', 'ext', 'ACCOUNT')] }]),
    );
    expect(c.organization).toBe(false);
    expect(c.regional[0]?.missing).toEqual([{ kind: 'internal', type: 'ACCOUNT_INTERNAL_ACCESS' }]);
    expect(c.unused).toEqual({
      zone: { kind: 'account', accountId: ADMIN },
      state: 'missing',
      create: { type: 'ACCOUNT_UNUSED_ACCESS', region: 'eu-west-1' },
    });
  });

  it('groups two unused analyzers of one zone, an account one under the organisation one too', () => {
    const org = analyzer('us-east-1', 'org-unused', 'ORGANIZATION_UNUSED_ACCESS');
    const again = analyzer('eu-west-1', 'org-unused', 'ORGANIZATION_UNUSED_ACCESS');
    const account = analyzer('eu-west-1', 'acct-unused', 'ACCOUNT_UNUSED_ACCESS');
    const c = assessCoverage(
      input([
        { region: 'us-east-1', analyzers: [org] },
        { region: 'eu-west-1', analyzers: [again, account] },
      ]),
    );
    expect(c.duplicateUnused).toEqual([
      { zone: { kind: 'organization', adminAccount: ADMIN }, analyzers: [org, again, account] },
    ]);
    expect(c.toScan).toEqual([org, again, account]);
  });

  it('reads a service-linked unused analyzer only when it is the only unused source', () => {
    const linked = analyzer('us-east-1', '_AccessAnalyzerForSecurityHub-abc', 'ACCOUNT_UNUSED_ACCESS', {
      managedBy: SECURITY_HUB,
    });
    const ext = analyzer('us-east-1', 'ext', 'ACCOUNT');
    const only = assessCoverage(input([{ region: 'us-east-1', analyzers: [ext, linked] }]));
    expect(only.toScan).toEqual([ext, linked]);
    expect(only.unused).toEqual({
      zone: { kind: 'account', accountId: ADMIN },
      state: 'service-linked',
      serviceLinked: linked,
    });

    const own = analyzer('eu-west-1', 'unused', 'ACCOUNT_UNUSED_ACCESS');
    const both = assessCoverage(
      input([
        { region: 'us-east-1', analyzers: [ext, linked] },
        { region: 'eu-west-1', analyzers: [own] },
      ]),
    );
    expect(both.toScan).toEqual([ext, own]);
    expect(both.unused?.state).toBe('ok');
    // Free of charge: it is not a duplicate of the customer's own analyzer.
    expect(both.duplicateUnused).toEqual([]);

    // An organisation analyzer that is not ACTIVE is no source: the service-linked one is read.
    const failedOrg = analyzer('eu-west-1', 'org-unused', 'ORGANIZATION_UNUSED_ACCESS', { status: 'FAILED' });
    const failed = assessCoverage(
      input([
        { region: 'us-east-1', analyzers: [ext, linked] },
        { region: 'eu-west-1', analyzers: [failedOrg] },
      ]),
    );
    expect(failed.toScan).toEqual([ext, linked]);
  });

  it('does not judge unused access, nor read service-linked analyzers, from an incomplete listing', () => {
    const linked = analyzer('us-east-1', '_AccessAnalyzerForSecurityHub-abc', 'ACCOUNT_UNUSED_ACCESS', {
      managedBy: SECURITY_HUB,
    });
    const c = assessCoverage(input([{ region: 'us-east-1', analyzers: [linked] }], { complete: false }));
    expect(c.unused).toBeUndefined();
    expect(c.toScan).toEqual([]);
  });

  it('reports an organisation without an unused analyzer even when a service-linked one covers this account', () => {
    const linked = analyzer('us-east-1', '_AccessAnalyzerForSecurityHub-abc', 'ACCOUNT_UNUSED_ACCESS', {
      managedBy: SECURITY_HUB,
    });
    const c = assessCoverage(
      input([{ region: 'us-east-1', analyzers: [analyzer('us-east-1', 'ext', 'ORGANIZATION'), linked] }]),
    );
    expect(c.unused).toEqual({
      zone: { kind: 'organization', adminAccount: ADMIN },
      state: 'missing',
      create: { type: 'ORGANIZATION_UNUSED_ACCESS', region: 'us-east-1' },
      partialServiceLinked: linked,
    });
    expect(c.toScan.map((a) => a.name)).toEqual(['ext', '_AccessAnalyzerForSecurityHub-abc']);
  });

  it('checks only the kinds it is told to expect', () => {
    const c = assessCoverage(input([{ region: 'eu-west-1', analyzers: [] }], { expected: ['external'] }));
    expect(c.regional[0]?.missing).toEqual([{ kind: 'external', type: 'ACCOUNT' }]);
    expect(c.unused).toBeUndefined();
  });
});
