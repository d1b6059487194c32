// Archive rules made from a finding: the filter (never status or id, at most 20 values), and the
// matcher that counts a rule's findings in the store as AWS evaluates the filter.
import { describe, expect, it } from 'vitest';
import {
  analyzerOfArn,
  archiveFilterProblem,
  filterMatches,
  filterValuesOf,
  previewSimilar,
  ruleNameProblem,
  similarRule,
} from '../../src/findings/archive-rule.ts';
import { makeCrossAccountFinding, makeFinding } from '../factories/finding.ts';

const subject = (f: ReturnType<typeof makeFinding>) => ({
  findingType: f.findingType,
  resourceArn: f.resourceArn,
  resourceType: f.resourceType,
  accountId: f.accountId,
  filterValues: filterValuesOf(f),
});

describe('similarRule', () => {
  it('makes an access finding’s rule from its resource type, account, principals and conditions', () => {
    const f = makeCrossAccountFinding({
      details: {
        kind: 'externalAccess',
        isPublic: false,
        grants: [
          {
            principal: { AWS: '999988887777' },
            actions: ['kms:Decrypt'],
            conditions: { 'aws:SourceVpc': 'vpc-1', 'aws:SourceArn': 'arn:x' },
            sources: ['POLICY'],
          },
          {
            principal: { Service: 'lambda.amazonaws.com' },
            actions: ['kms:Decrypt'],
            conditions: {},
            sources: [],
          },
        ],
      },
    });
    const { filter, left } = similarRule(subject(f));
    expect(filter).toEqual({
      resourceType: { eq: [f.resourceType] },
      resourceOwnerAccount: { eq: [f.accountId] },
      isPublic: { eq: ['false'] },
      'principal.AWS': { eq: ['999988887777'] },
      'condition.aws:SourceVpc': { eq: ['vpc-1'] },
    });
    expect(left).toEqual([
      'condition.aws:SourceArn (not an archive rule filter key)',
      'principal.Service (not an archive rule filter key)',
    ]);
    expect(archiveFilterProblem(filter)).toBeUndefined();
  });

  it('filters unused access by finding type (AWS filters by finding type only there), never by status or id', () => {
    const f = makeFinding({ findingType: 'UnusedIAMRole', resourceType: 'AWS::IAM::Role' });
    const { filter } = similarRule(subject(f));
    expect(Object.keys(filter).sort()).toEqual(['findingType', 'resourceOwnerAccount', 'resourceType']);
    expect(filter.findingType).toEqual({ eq: ['UnusedIAMRole'] });
  });

  it('leaves out a criterion with more values than AWS takes and says so', () => {
    const grants = Array.from({ length: 25 }, (_, i) => ({
      principal: { AWS: `1111222233${String(i).padStart(2, '0')}` },
      actions: ['s3:GetObject'],
      conditions: {},
      sources: [],
    }));
    const f = makeCrossAccountFinding({ details: { kind: 'externalAccess', isPublic: false, grants } });
    const { filter, left } = similarRule(subject(f));
    expect(filter['principal.AWS']).toBeUndefined();
    expect(left).toEqual(['principal.AWS (25 values; a criterion takes at most 20)']);
  });
});

describe('archiveFilterProblem and ruleNameProblem', () => {
  it.each([
    [{}, 'an archive rule needs at least one criterion'],
    [{ status: { eq: ['ACTIVE'] } }, 'archive rules cannot filter on `status`'],
    [{ id: { eq: ['x'] } }, 'archive rules cannot filter on `id`'],
    [{ resource: {} }, '`resource` has no eq, neq, contains or exists'],
    [{ resource: { eq: [] } }, '`resource` eq takes 1 to 20 values (got 0)'],
  ])('refuses %j: %s', (filter, problem) => {
    expect(archiveFilterProblem(filter)).toBe(problem);
  });

  it('takes the names AWS takes', () => {
    expect(ruleNameProblem('similar-unusediamrole-1a2b.c_d')).toBeUndefined();
    expect(ruleNameProblem('1starts-with-digit')).toMatch(/starts with a letter/);
    expect(ruleNameProblem('has space')).toMatch(/starts with a letter/);
    expect(ruleNameProblem(`a${'b'.repeat(255)}`)).toMatch(/at most 255/);
  });
});

describe('filterMatches', () => {
  const card = {
    findingType: 'ExternalAccess',
    resourceArn: 'arn:aws:s3:::logs-prod',
    resourceType: 'AWS::S3::Bucket',
    accountId: '111122223333',
    filterValues: { 'principal.AWS': ['999988887777', '444455556666'], isPublic: ['false'] },
  };
  it.each([
    [{ 'principal.AWS': { eq: ['444455556666'] } }, true],
    [{ 'principal.AWS': { eq: ['000000000000'] } }, false],
    [{ 'principal.AWS': { neq: ['444455556666'] } }, false],
    [{ resource: { contains: ['logs-'] } }, true],
    [{ resource: { contains: ['audit'] } }, false],
    [{ 'condition.aws:SourceVpc': { exists: false } }, true],
    [{ 'condition.aws:SourceVpc': { exists: true } }, false],
    [{ resourceType: { eq: ['AWS::S3::Bucket'] }, resourceOwnerAccount: { eq: ['999999999999'] } }, false],
  ])('%j matches: %s', (filter, expected) => {
    expect(filterMatches(filter, card)).toBe(expected);
  });
});

describe('previewSimilar', () => {
  const own = 'arn:aws:access-analyzer:us-east-1:111111111111:analyzer/org-unused';
  const other = 'arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/eu-unused';
  const linked = 'arn:aws:access-analyzer:us-east-1:111111111111:analyzer/_AccessAnalyzerForSecurityHub-1';
  const id = (findingId: string, analyzerArn: string, status = 'ACTIVE', live = true) => ({
    id: findingId,
    status,
    analyzerArn,
    region: analyzerArn.split(':')[3]!,
    live,
  });
  const role = (
    name: string,
    analyzerArn: string,
    status = 'ACTIVE',
    more: ReturnType<typeof id>[] = [],
  ) => ({
    id: name,
    findingType: 'UnusedIAMRole',
    resourceArn: `arn:aws:iam::222222222222:role/${name}`,
    resourceType: 'AWS::IAM::Role',
    accountId: '222222222222',
    members: [id(name, analyzerArn, status), ...more],
  });
  const card = { findingType: 'UnusedIAMRole', resourceType: 'AWS::IAM::Role', accountId: '222222222222' };
  it('counts the ACTIVE matches and names the analyzers holding them, the card’s own first', () => {
    const p = previewSimilar(
      card,
      { analyzerArn: own, region: 'us-east-1' },
      [role('a', other), role('b', own), role('c', own, 'RESOLVED'), role('d', linked)],
      new Set([linked]),
    );
    expect(p.matched.map((m) => m.id)).toEqual(['a', 'b']);
    expect(p.findings.map((f) => f.id)).toEqual(['a', 'b']);
    expect(p.analyzers).toEqual([analyzerOfArn(own, 'us-east-1'), analyzerOfArn(other, 'eu-west-1')]);
    expect(p.uncounted).toBe(0);
  });
  it('counts each ACTIVE finding id of a card, not the card: one problem in two analyzers is two findings', () => {
    const p = previewSimilar(
      card,
      { analyzerArn: own, region: 'us-east-1' },
      [
        // Reported by both analyzers: the rule archives it in each.
        role('a', own, 'ACTIVE', [id('a-eu', other)]),
        // Its first id is archived already; the id in the other analyzer keeps the card open.
        role('b', own, 'ARCHIVED', [id('b-eu', other)]),
        // Its other id is in a service-linked analyzer and one that is gone: neither archives anything.
        role('c', own, 'ACTIVE', [id('c-sh', linked), id('c-gone', other, 'ACTIVE', false)]),
      ],
      new Set([linked]),
    );
    expect(p.findings.map((f) => f.id)).toEqual(['a', 'a-eu', 'b-eu', 'c']);
    expect(p.matched.map((m) => m.id)).toEqual(['a', 'b', 'c']);
    expect(p.analyzers).toEqual([analyzerOfArn(own, 'us-east-1'), analyzerOfArn(other, 'eu-west-1')]);
  });
});
