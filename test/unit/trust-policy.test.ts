import { describe, expect, it } from 'vitest';
import type { AccessGrant } from '../../src/findings/model.ts';
import { withoutPrincipals } from '../../src/findings/trust-policy.ts';

const grant = (principal: Record<string, string>): AccessGrant => ({
  principal,
  actions: ['sts:AssumeRole'],
  conditions: {},
  sources: ['POLICY'],
});
const doc = (...Statement: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement });

describe('withoutPrincipals', () => {
  it('removes the external account (as a root ARN or an account id) and keeps the others', () => {
    const before = doc({
      Effect: 'Allow',
      Principal: { AWS: ['arn:aws:iam::999988887777:root', 'arn:aws:iam::111111111111:role/ci'] },
      Action: 'sts:AssumeRole',
    });
    const out = withoutPrincipals(before, [grant({ AWS: '999988887777' })]);
    expect(out.removed).toEqual(['AWS: arn:aws:iam::999988887777:root']);
    expect(JSON.parse(out.document!)).toEqual(
      JSON.parse(
        doc({
          Effect: 'Allow',
          Principal: { AWS: ['arn:aws:iam::111111111111:role/ci'] },
          Action: 'sts:AssumeRole',
        }),
      ),
    );
  });

  it('drops a statement left with no principal, keeping the rest as they were', () => {
    const keep = {
      Effect: 'Allow',
      Principal: { Service: 'lambda.amazonaws.com' },
      Action: 'sts:AssumeRole',
    };
    const before = doc(
      {
        Sid: 'Vendor',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::999988887777:root' },
        Action: 'sts:AssumeRole',
      },
      keep,
    );
    const out = withoutPrincipals(before, [grant({ AWS: 'arn:aws:iam::999988887777:root' })]);
    expect(JSON.parse(out.document!).Statement).toEqual([keep]);
  });

  it('denies the removed principals when nothing would be left (IAM needs a statement)', () => {
    const before = doc({
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::999988887777:root' },
      Action: 'sts:AssumeRole',
    });
    const out = withoutPrincipals(before, [grant({ AWS: 'arn:aws:iam::999988887777:root' })]);
    expect(JSON.parse(out.document!).Statement).toEqual([
      { Effect: 'Deny', Principal: { AWS: 'arn:aws:iam::999988887777:root' }, Action: 'sts:AssumeRole' },
    ]);
  });

  it('says there is nothing to change when the principal is gone already', () => {
    const before = doc({
      Effect: 'Allow',
      Principal: { Service: 'ec2.amazonaws.com' },
      Action: 'sts:AssumeRole',
    });
    expect(withoutPrincipals(before, [grant({ AWS: '999988887777' })])).toEqual({
      document: null,
      removed: [],
    });
  });
});
