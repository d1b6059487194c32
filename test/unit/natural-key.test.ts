import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/model.ts';
import { naturalKeyOf, naturalKeyParts } from '../../src/findings/natural-key.ts';
import { makeFinding } from '../factories/finding.ts';

const OTHER_ANALYZER = 'arn:aws:access-analyzer:us-east-1:111111111111:analyzer/account-unused';

/** The same problem as another analyzer in another region reports it: own id, analyzer, dates. */
function reportedElsewhere(f: Finding): Finding {
  return {
    ...f,
    id: '9c9c9c9c-0000-4000-8000-00000000ffff',
    analyzerArn: OTHER_ANALYZER,
    region: 'us-east-1',
    createdAt: '2025-02-01T00:00:00.000Z',
    updatedAt: '2025-02-02T00:00:00.000Z',
  };
}

describe('natural key', () => {
  it.each([
    'ExternalAccess',
    'InternalAccess',
    'UnusedIAMRole',
    'UnusedIAMUserAccessKey',
    'UnusedIAMUserPassword',
    'UnusedPermission',
  ] as const)('is the same for a %s finding reported by another analyzer in another region', (type) => {
    const f = makeFinding({ findingType: type });
    expect(f.findingType).toBe(type);
    expect(naturalKeyOf(reportedElsewhere(f))).toBe(naturalKeyOf(f));
    expect(naturalKeyOf(f)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('does not depend on the order AWS lists actions, principals or conditions in', () => {
    const f = makeFinding({ findingType: 'ExternalAccess' });
    const g = structuredClone(f);
    if (g.details.kind !== 'externalAccess') throw new Error('fixture');
    g.details.grants[0]!.actions.reverse();
    g.details.grants[0]!.sources = ['BUCKET_ACL'];
    expect(naturalKeyOf(g)).toBe(naturalKeyOf(f));
  });

  it('tells apart grants to other principals, other actions or under other conditions', () => {
    const f = makeFinding({ findingType: 'ExternalAccess' });
    const variant = (change: (g: Finding) => void) => {
      const g = structuredClone(f);
      change(g);
      return naturalKeyOf(g);
    };
    const grant = (g: Finding) => (g.details.kind === 'externalAccess' ? g.details.grants[0]! : undefined)!;
    const keys = [
      naturalKeyOf(f),
      variant((g) => {
        grant(g).principal = { AWS: '999988887777' };
      }),
      variant((g) => {
        grant(g).actions = ['s3:PutObject'];
      }),
      variant((g) => {
        grant(g).conditions = { 'aws:SourceVpc': 'vpc-1' };
      }),
      variant((g) => {
        g.resourceArn = 'arn:aws:s3:::other-bucket';
      }),
      variant((g) => {
        g.accountId = '333333333333';
      }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('tells apart two access keys of one user, and a key from the password of the same user', () => {
    const key = makeFinding({ findingType: 'UnusedIAMUserAccessKey' });
    const other = structuredClone(key);
    if (other.details.kind !== 'unusedAccessKey') throw new Error('fixture');
    other.details.accessKeyId = 'AKIAOTHERKEY00000002';
    const password = {
      ...makeFinding({ findingType: 'UnusedIAMUserPassword' }),
      resourceArn: key.resourceArn,
      accountId: key.accountId,
    };
    expect(new Set([naturalKeyOf(key), naturalKeyOf(other), naturalKeyOf(password)]).size).toBe(3);
  });

  it('tells the finding types of one resource apart', () => {
    const arn = 'arn:aws:iam::111111111111:role/app';
    const keys = (['ExternalAccess', 'UnusedIAMRole', 'UnusedPermission'] as const).map((findingType) =>
      naturalKeyOf({ ...makeFinding({ findingType }), resourceArn: arn }),
    );
    expect(new Set(keys).size).toBe(3);
  });

  it('keeps one key for a principal whose unused services change', () => {
    const f = makeFinding({ findingType: 'UnusedPermission' });
    const g = structuredClone(f);
    if (g.details.kind !== 'unusedPermission') throw new Error('fixture');
    g.details.services = g.details.services.slice(1);
    expect(naturalKeyOf(g)).toBe(naturalKeyOf(f));
    expect(naturalKeyParts(f)).toEqual({
      type: 'UnusedPermission',
      account: f.accountId,
      resource: f.resourceArn,
    });
  });
});
