import { describe, expect, it, vi } from 'vitest';
import type { RoutingRule } from '../../src/config/schema.ts';
import {
  channelFromTag,
  explainRoute,
  formatRouteExplanation,
  matchesArnGlob,
  matchesValueGlob,
  type RoutedFinding,
  type RoutingContext,
  routeFinding,
} from '../../src/findings/routing.ts';

const bucket: RoutedFinding = {
  resourceArn: 'arn:aws:s3:::payments-exports',
  resourceType: 'AWS::S3::Bucket',
  accountId: '222222222222',
  region: 'eu-west-1',
  findingType: 'ExternalAccess',
};

const role: RoutedFinding = {
  resourceArn: 'arn:aws:iam::111111111111:role/service-role/etl-runner',
  resourceType: 'AWS::IAM::Role',
  accountId: '111111111111',
  region: 'us-east-1',
  findingType: 'UnusedIAMRole',
};

function context(
  rules: RoutingRule[],
  tags: Record<string, string> | null | Error = {},
): RoutingContext & { getTags: ReturnType<typeof vi.fn> } {
  const getTags = vi.fn(async () => {
    if (tags instanceof Error) throw tags;
    return tags;
  });
  return {
    rules,
    defaultChannel: '#security',
    tags: { ownerEmailTag: 'owner', useResourceGroupsTaggingApi: false },
    getTags,
  };
}

describe('routeFinding', () => {
  const cases: {
    name: string;
    finding: RoutedFinding;
    rules: RoutingRule[];
    tags?: Record<string, string> | null;
    channel: string;
    rule: string;
    reason?: string;
  }[] = [
    {
      name: 'the first matching rule wins over later matching ones',
      finding: bucket,
      rules: [
        { name: 'other account', match: { accountId: '999999999999' }, channel: '#other' },
        { name: 'prod account', match: { accountId: ['222222222222'] }, channel: '#prod' },
        { name: 'all buckets', match: { resourceType: 'AWS::S3::Bucket' }, channel: '#buckets' },
      ],
      channel: '#prod',
      rule: 'prod account',
      reason: "rule 'prod account' (#2): accountId 222222222222 is in [222222222222]",
    },
    {
      name: 'all conditions of one rule must hold',
      finding: bucket,
      rules: [
        { name: 'prod in us', match: { accountId: '222222222222', region: 'us-east-1' }, channel: '#us' },
        { name: 'prod in eu', match: { accountId: '222222222222', region: 'eu-west-1' }, channel: '#eu' },
      ],
      channel: '#eu',
      rule: 'prod in eu',
      reason:
        "rule 'prod in eu' (#2): accountId 222222222222 is in [222222222222] and region eu-west-1 is in [eu-west-1]",
    },
    {
      name: 'a list means any of its values',
      finding: role,
      rules: [{ match: { findingType: ['UnusedIAMUserPassword', 'UnusedIAMRole'] }, channel: '#unused' }],
      channel: '#unused',
      rule: 'rule #1',
    },
    {
      name: 'an ARN glob selects by bucket name',
      finding: bucket,
      rules: [{ name: 'payments', match: { resourceArn: 'arn:aws:s3:::payments-*' }, channel: '#payments' }],
      channel: '#payments',
      rule: 'payments',
      reason: "rule 'payments' (#1): resourceArn matches arn:aws:s3:::payments-*",
    },
    {
      name: 'a tag rule without channel sends to the channel named by the tag',
      finding: bucket,
      rules: [{ name: 'owner tag', match: { tag: { key: 'access-patrol-channel' } } }],
      tags: { 'access-patrol-channel': 'payments-alerts' },
      channel: '#payments-alerts',
      rule: 'owner tag',
      reason:
        "rule 'owner tag' (#1): tag access-patrol-channel is set ('payments-alerts'); channel #payments-alerts from the tag",
    },
    {
      name: 'a tag rule accepts a channel id as the tag value',
      finding: bucket,
      rules: [{ match: { tag: { key: 'slack' } } }],
      tags: { slack: 'C0123ABCD9' },
      channel: 'C0123ABCD9',
      rule: 'rule #1',
    },
    {
      name: 'a tag value that is not a channel makes the rule not match',
      finding: bucket,
      rules: [{ match: { tag: { key: 'slack' } } }],
      tags: { slack: 'Payments Team' },
      channel: '#security',
      rule: 'default',
    },
    {
      name: 'a tag value glob',
      finding: bucket,
      rules: [
        { name: 'platform', match: { tag: { key: 'team', value: 'platform-*' } }, channel: '#platform' },
        { name: 'payments', match: { tag: { key: 'team', value: 'pay*' } }, channel: '#payments' },
      ],
      tags: { team: 'payments/core' },
      channel: '#payments',
      rule: 'payments',
      reason: "rule 'payments' (#2): tag team is 'payments/core', matches 'pay*'",
    },
    {
      name: 'a missing tag does not match',
      finding: bucket,
      rules: [{ name: 'team', match: { tag: { key: 'team' } }, channel: '#teams' }],
      tags: { other: 'x' },
      channel: '#security',
      rule: 'default',
      reason: 'no rule matched; default channel',
    },
    {
      name: 'tags that cannot be read for the resource do not match',
      finding: bucket,
      rules: [{ name: 'team', match: { tag: { key: 'team' } }, channel: '#teams' }],
      tags: null,
      channel: '#security',
      rule: 'default',
    },
    {
      name: 'no rules means the default channel',
      finding: role,
      rules: [],
      channel: '#security',
      rule: 'default',
      reason: 'no rule matched; default channel',
    },
  ];

  it.each(cases)('$name', async ({ finding, rules, tags, channel, rule, reason }) => {
    const route = await routeFinding(finding, context(rules, tags ?? {}));
    expect(route).toMatchObject({ channel, rule });
    if (reason) expect(route.reason).toBe(reason);
  });

  it('reads tags only when a rule with a tag condition is evaluated', async () => {
    const ctx = context([
      { name: 'prod', match: { accountId: '222222222222' }, channel: '#prod' },
      { name: 'team', match: { tag: { key: 'team' } }, channel: '#team' },
    ]);
    expect(await routeFinding(bucket, ctx)).toMatchObject({ rule: 'prod' });
    expect(ctx.getTags).not.toHaveBeenCalled();
  });

  it('does not read tags for a tag rule whose other conditions already fail', async () => {
    const ctx = context([{ match: { region: 'us-east-1', tag: { key: 'team' } }, channel: '#team' }]);
    expect(await routeFinding(bucket, ctx)).toMatchObject({ rule: 'default' });
    expect(ctx.getTags).not.toHaveBeenCalled();
  });

  it('reads tags at most once however many tag rules there are', async () => {
    const ctx = context(
      [
        { match: { tag: { key: 'a' } }, channel: '#a' },
        { match: { tag: { key: 'b' } }, channel: '#b' },
        { match: { tag: { key: 'c', value: 'x' } }, channel: '#c' },
        { match: { tag: { key: 'access-patrol-channel' } } },
      ],
      { c: 'y', 'access-patrol-channel': '#owners', owner: 'ana@example.com' },
    );
    const route = await routeFinding(bucket, ctx);
    expect(route).toEqual({
      channel: '#owners',
      rule: 'rule #4',
      reason: "rule #4: tag access-patrol-channel is set ('#owners'); channel #owners from the tag",
      ownerEmail: 'ana@example.com',
    });
    expect(ctx.getTags).toHaveBeenCalledTimes(1);
  });

  it('fills the owner e-mail when tags were read, even if the default channel wins', async () => {
    const ctx = context([{ match: { tag: { key: 'team' } }, channel: '#team' }], { owner: 'bo@example.com' });
    expect(await routeFinding(bucket, ctx)).toMatchObject({ rule: 'default', ownerEmail: 'bo@example.com' });
  });

  it('does not read tags just for the owner e-mail', async () => {
    const ctx = context([], { owner: 'bo@example.com' });
    const route = await routeFinding(bucket, ctx);
    expect(route.ownerEmail).toBeUndefined();
    expect(ctx.getTags).not.toHaveBeenCalled();
  });

  it('treats tag rules as not matching when tags cannot be read, and keeps routing', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: tag:GetResources'), {
      name: 'AccessDeniedException',
    });
    const ctx = context(
      [
        { name: 'team', match: { tag: { key: 'team' } }, channel: '#team' },
        { name: 'eu', match: { region: 'eu-west-1' }, channel: '#eu' },
      ],
      denied,
    );
    const route = await routeFinding(bucket, ctx);
    expect(route).toEqual({
      channel: '#eu',
      rule: 'eu',
      reason:
        "rule 'eu' (#2): region eu-west-1 is in [eu-west-1] (tags unreadable: User is not authorized to perform: tag:GetResources)",
    });
  });

  it('never throws, even when the tag reader throws synchronously', async () => {
    const ctx: RoutingContext = {
      ...context([{ match: { tag: { key: 'team' } }, channel: '#team' }]),
      getTags: () => {
        throw new Error('boom');
      },
    };
    await expect(routeFinding(bucket, ctx)).resolves.toMatchObject({
      rule: 'default',
      reason: 'no rule matched; default channel (tags unreadable: boom)',
    });
  });
});

describe('explainRoute', () => {
  it('explains every rule, including those after the first match', async () => {
    const ctx = context(
      [
        { name: 'payments', match: { tag: { key: 'team', value: 'payments' } }, channel: '#payments' },
        { name: 'us only', match: { region: 'us-east-1' }, channel: '#us' },
        { name: 'prod account', match: { accountId: '222222222222' }, channel: '#prod' },
        { match: { resourceType: 'AWS::S3::Bucket' }, channel: '#buckets' },
      ],
      { team: 'platform' },
    );
    const { route, verdicts } = await explainRoute(bucket, ctx);
    expect(verdicts.map((v) => v.text)).toEqual([
      "rule 'payments' (#1): no — tag team is 'platform', wanted 'payments'",
      "rule 'us only' (#2): no — region eu-west-1 is not in [us-east-1]",
      "rule 'prod account' (#3): yes — accountId 222222222222 is in [222222222222]",
      'rule #4: yes — resourceType AWS::S3::Bucket is in [AWS::S3::Bucket]',
    ]);
    expect(route).toMatchObject({ channel: '#prod', rule: 'prod account' });
    expect(ctx.getTags).toHaveBeenCalledTimes(1);
    expect(formatRouteExplanation({ route, verdicts }).split('\n').at(-1)).toBe(
      "→ #prod (rule 'prod account')",
    );
  });
});

describe('ARN globs', () => {
  const cases: [string, string, boolean][] = [
    ['arn:aws:s3:::payments-*', 'arn:aws:s3:::payments-exports', true],
    ['arn:aws:s3:::payments-*', 'arn:aws:s3:::billing-exports', false],
    // `*` stays inside one segment: it crosses neither `:` nor `/`.
    ['arn:aws:iam::*:role/*', 'arn:aws:iam::111111111111:role/admin', true],
    ['arn:aws:iam::*:role/*', 'arn:aws:iam::111111111111:role/service-role/etl', false],
    ['arn:aws:iam::*:role/**', 'arn:aws:iam::111111111111:role/service-role/etl', true],
    ['arn:aws:*:*:111111111111:*', 'arn:aws:sqs:eu-west-1:111111111111:jobs', true],
    ['arn:aws:*:111111111111:*', 'arn:aws:sqs:eu-west-1:111111111111:jobs', false],
    ['arn:aws:**', 'arn:aws:kms:eu-west-1:111111111111:key/abc', true],
    ['arn:aws:sqs:eu-west-?:*:jobs', 'arn:aws:sqs:eu-west-1:111111111111:jobs', true],
    // Everything but `*` and `?` is literal, including regex characters.
    ['arn:aws:s3:::a.b', 'arn:aws:s3:::aXb', false],
    ['arn:aws:s3:::a+b(c)', 'arn:aws:s3:::a+b(c)', true],
    // Anchored at both ends.
    ['arn:aws:s3:::pay', 'arn:aws:s3:::payments', false],
  ];
  it.each(cases)('%s against %s is %s', (glob, arn, expected) => {
    expect(matchesArnGlob(arn, glob)).toBe(expected);
  });

  it('tag value globs let * cross / and :', () => {
    expect(matchesValueGlob('team/payments:core', 'team*core')).toBe(true);
    expect(matchesValueGlob('payments', 'pay?ents')).toBe(true);
    expect(matchesValueGlob('payments', 'Payments')).toBe(false);
  });
});

describe('channelFromTag', () => {
  const cases: [string, string | undefined][] = [
    ['#sec-alerts', '#sec-alerts'],
    ['sec-alerts', '#sec-alerts'],
    [' C0123ABCD9 ', 'C0123ABCD9'],
    ['Payments Team', undefined],
    ['a@b.com', undefined],
    ['', undefined],
  ];
  it.each(cases)('%j → %j', (value, channel) => {
    expect(channelFromTag(value)).toBe(channel);
  });
});
