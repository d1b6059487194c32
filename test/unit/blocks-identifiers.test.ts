// AWS identifiers read back exactly. ARNs, actions, principals, conditions, key ids and names full of
// the characters mrkdwn would eat (`*`, `_`, `~`, backticks), entities and mentions go through every
// builder that shows them, are rendered as the workspace page renders Slack (test/helpers/
// slack-display.ts), and each must be among the code-styled pieces a person sees, character for
// character. Zero-width characters are not dropped: each is shown as its `\uXXXX` escape, so a
// hidden character inside an identifier is visible (the verbatim JSON of backups does the same).
import type { KnownBlock } from '@slack/types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backupSnippet, deleteRoleConfirmModal, deletionReceipt } from '../../blocks/delete-role.ts';
import { findingMessage } from '../../blocks/finding.ts';
import { fixReceipt, passwordDm } from '../../blocks/fixes.ts';
import { LIMITS, limitViolations, type SlackMessage } from '../../blocks/limits.ts';
import {
  generationFailedMessage,
  generationQueuedNote,
  generationResultMessage,
  validationReply,
} from '../../blocks/policy.ts';
import { recommendationMessage } from '../../blocks/recommendation.ts';
import { ident, richLines } from '../../blocks/rich.ts';
import { blockProblems, viewProblems } from '../../sandbox/block-kit-rules.ts';
import type { Finding } from '../../src/findings/model.ts';
import { assessSeverity } from '../../src/findings/severity.ts';
import { F_NOW, makeFinding, makeRoute } from '../factories/finding.ts';
import { displayedCode, liveMarkup } from '../helpers/slack-display.ts';

const ZERO_WIDTH = ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF'];

/** Pieces IAM-like strings are made of: names, separators, wildcards and everything mrkdwn or HTML would parse. */
const PIECES = [
  'arn:aws:iam::111111111111:role/',
  's3:Get',
  'Object',
  'ci',
  '-',
  ':',
  '/',
  '.',
  '*',
  '?',
  '_',
  '__',
  '~',
  '`',
  '```',
  '<',
  '>',
  '&',
  '&amp;',
  '<!channel>',
  '<!here>',
  '<@U024BE7LH>',
  '<https://evil.example|x>',
  '@channel',
  ' ',
  ...ZERO_WIDTH,
];

/**
 * An identifier as AWS could return it: 1 to 12 pieces, never blank, within the length its place
 * shows whole (as seen: an escape counts six) (longer ones are cut with an ellipsis, by design): `identifier` up to 190 characters
 * (ARNs, principals, actions, names), `short` up to 40 (account ids, types, namespaces, codes, Sids).
 */
const pieces = fc
  .array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 12 })
  .map((xs) => xs.join(''))
  .filter((s) => s.trim() !== '');
const identifier = pieces.filter((s) => seen(s).length <= 190);
const short = pieces.filter((s) => seen(s).length <= 40);

/** What a person sees of an identifier: itself, with each zero-width character written as its escape. */
function seen(s: string): string {
  return s.replace(
    /\u200B|\u200C|\u200D|\u2060|\uFEFF/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Every identifier is shown, exactly, as one code-styled piece; nothing live; Slack would accept it. */
function expectExact(blocks: readonly unknown[], ids: readonly string[]): void {
  const code = displayedCode(blocks);
  for (const id of ids) expect(code).toContain(seen(id));
  const rich = blocks.filter((b) => (b as { type?: string }).type === 'rich_text');
  expect(liveMarkup(rich)).toEqual([]);
  // No invisible character reaches Slack inside rich text (it would hide inside a name).
  for (const b of rich) expect(JSON.stringify(b)).not.toMatch(/\u200B|\u200C|\u200D|\u2060|\uFEFF/);
}

function expectMessage(m: SlackMessage, ids: readonly string[]): void {
  expect(limitViolations(m)).toEqual([]);
  expect(blockProblems(m.blocks)).toEqual([]);
  expectExact(m.blocks, ids);
}

const card = (finding: Finding) =>
  findingMessage({
    finding,
    severity: assessSeverity(finding),
    route: makeRoute(),
    consoleUrl: 'https://console.aws.amazon.com',
    now: F_NOW,
  });

const RUNS = { numRuns: 120 };

describe('AWS identifiers read back exactly', () => {
  it('richLines shows any identifier as written, mentions and entities inert', () => {
    fc.assert(
      fc.property(identifier, (id) => {
        const block: KnownBlock = richLines([['Action ', ident(id)]]);
        expect(blockProblems([block])).toEqual([]);
        expectExact([block], [id]);
        expect(displayedCode([block])).toEqual([seen(id)]);
      }),
      RUNS,
    );
  });

  it('finding cards: resource ARN and type, account, principals, actions, conditions, sources', () => {
    fc.assert(
      fc.property(
        identifier,
        short,
        short,
        fc.array(identifier, { minLength: 1, maxLength: 3 }),
        fc.array(identifier, { minLength: 1, maxLength: 3 }),
        short,
        short,
        (arn, type, account, principals, actions, key, value) => {
          const external = makeFinding({
            resourceArn: arn,
            resourceType: type,
            accountId: account,
            details: {
              kind: 'externalAccess',
              isPublic: false,
              grants: principals.map((p) => ({
                principal: { AWS: p },
                actions,
                conditions: { [key]: value },
                sources: [value],
              })),
            },
          });
          expectMessage(card(external), [
            arn,
            type,
            account,
            ...principals,
            ...actions,
            `${key} = ${value}`,
            value,
          ]);
        },
      ),
      RUNS,
    );
  });

  it('finding cards: access key ids, and unused services and actions', () => {
    fc.assert(
      fc.property(identifier, short, identifier, (keyId, namespace, action) => {
        const key = makeFinding({
          findingType: 'UnusedIAMUserAccessKey',
          details: { kind: 'unusedAccessKey', accessKeyId: keyId },
        });
        expectMessage(card(key), [keyId]);
        const unused = makeFinding({
          findingType: 'UnusedPermission',
          details: {
            kind: 'unusedPermission',
            services: [{ serviceNamespace: namespace, actions: [{ action }] }],
          },
        });
        expectMessage(card(unused), [namespace, action]);
      }),
      RUNS,
    );
  });

  it('recommendations: resource, policies to detach or replace, unused services and actions', () => {
    fc.assert(
      fc.property(identifier, identifier, short, identifier, (arn, policy, namespace, action) => {
        const m = recommendationMessage({
          userId: 'U0ALICE',
          resourceArn: arn,
          steps: [
            { action: 'DETACH_POLICY', existingPolicyId: policy },
            { action: 'CREATE_POLICY', existingPolicyId: policy, recommendedPolicy: '{"Statement":[]}' },
          ],
          services: [{ serviceNamespace: namespace, actions: [{ action }] }],
        });
        expectMessage(m, [arn, policy, namespace, action]);
      }),
      RUNS,
    );
  });

  it('policy generation and validation: principal, wildcards, actions, policies, statement ids, issue codes', () => {
    fc.assert(
      fc.property(
        identifier,
        short,
        short,
        identifier,
        short,
        short,
        (principal, wildcard, action, unreadable, sid, issue) => {
          const subject = { principalArn: principal, accountId: '123456789012', days: 30, userId: 'U0ALICE' };
          const result = generationResultMessage({
            ...subject,
            result: { status: 'SUCCEEDED', isComplete: true, policies: ['{}'] },
            comparison: {
              generated: 1,
              services: 1,
              current: 2,
              currentWildcards: [wildcard],
              kept: 1,
              notCovered: [action],
              notActionStatements: 0,
            },
            unreadable: [unreadable],
            noNewAccess: [
              { result: 'FAIL', message: 'new access', reasons: [{ description: 'x', statementId: sid }] },
            ],
            findings: [
              { findingType: 'ERROR', issueCode: issue, details: 'd', learnMoreLink: '', locations: 1 },
            ],
          });
          expectMessage(result, [principal, wildcard, action, unreadable, sid, issue]);
          const reply = validationReply({
            policyType: 'RESOURCE_POLICY',
            findings: [
              { findingType: 'WARNING', issueCode: issue, details: 'd', learnMoreLink: '', locations: 1 },
            ],
            publicAccess: { resourceType: wildcard, result: { result: 'PASS', message: 'ok', reasons: [] } },
          });
          expectMessage(reply, [issue, wildcard]);
          expectMessage(generationQueuedNote({ ahead: 1, accountId: wildcard, principalArn: principal }), [
            wildcard,
            principal,
          ]);
          expectMessage(
            generationFailedMessage(subject, { status: 'FAILED', error: { code: issue, message: 'm' } }),
            [principal, issue],
          );
        },
      ),
      RUNS,
    );
  });

  it('fix receipts and the password DM: target, user, account, password', () => {
    fc.assert(
      fc.property(identifier, identifier, identifier, short, (target, user, password, account) => {
        expectMessage(
          fixReceipt({ kind: 'deactivate-key', userId: 'U0ALICE', target, done: ['x'], notDone: [] }),
          [target],
        );
        expectMessage(passwordDm({ userName: user, accountId: account, password }), [
          user,
          account,
          password,
        ]);
      }),
      RUNS,
    );
  });

  it('role deletion: the confirm modal, the backup head and the receipt', () => {
    fc.assert(
      fc.property(identifier, identifier, identifier, identifier, (role, policyArn, inline, profile) => {
        const modal = deleteRoleConfirmModal({
          meta: { f: 'f-1', a: 'arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/x', r: 'eu-west-1' },
          inspection: {
            accountId: '111111111111',
            roleName: role,
            arn: `arn:aws:iam::111111111111:role/${role}`,
            roleId: 'AROAEXAMPLE',
            path: '/',
            lastUsed: {},
            assumeRolePolicyDocument: '{}',
            tags: [],
            attachedPolicies: [{ name: 'p', arn: policyArn }],
            inlinePolicies: [{ name: inline, document: '{}' }],
            instanceProfiles: [
              { name: profile, arn: 'arn:aws:iam::111111111111:instance-profile/x', path: '/' },
            ],
            isServiceLinked: false,
          },
          minUnusedDays: 90,
        });
        expect(viewProblems(modal, 'modal')).toEqual([]);
        expectExact(modal.blocks, [role, policyArn, inline, profile]);
        const [head] = backupSnippet(
          {
            version: 1,
            accountId: '111111111111',
            roleName: role,
            arn: 'arn:aws:iam::111111111111:role/x',
            path: '/',
            assumeRolePolicyDocument: '{}',
            tags: [],
            inlinePolicies: [],
            attachedPolicyArns: [],
            instanceProfileNames: [],
            takenAt: '2026-12-01T10:00:00.000Z',
          },
          policyArn,
        );
        expectExact(head!.blocks.slice(0, 1), [role, policyArn]);
        expectMessage(deletionReceipt({ userId: 'U0ALICE', roleName: role, done: [], notDone: [] }), [role]);
      }),
      RUNS,
    );
  });

  it('keeps a card of many short code-styled items within a message’s budget for its blocks', () => {
    // Rich text costs more per item than mrkdwn (each identifier is an element): the lists are cut
    // by their size as sent, so seven long lists still fit one message.
    const n = (i: number) => `<!channel>*_${i}`;
    const many = Array.from({ length: 100 }, (_, i) => i);
    const internal = makeFinding({
      findingType: 'InternalAccess',
      details: {
        kind: 'internalAccess',
        grants: many.map((i) => ({
          principal: { AWS: n(i) },
          actions: [`s3:${n(i)}`],
          conditions: { [`k${i}`]: n(i) },
          sources: [n(i)],
          principalOwnerAccount: n(i),
          accessType: n(i),
          principalType: n(i),
        })),
      },
    });
    const m = card(internal);
    expect(JSON.stringify(m.blocks).length).toBeLessThanOrEqual(LIMITS.messageBlocksText);
    expect(limitViolations(m)).toEqual([]);
    const shown = displayedCode(m.blocks);
    expect(shown).toContain(n(0));
    const rec = recommendationMessage({
      userId: 'U0ALICE',
      resourceArn: 'arn:aws:iam::111111111111:role/x',
      steps: [],
      services: many.slice(0, 25).map((i) => ({
        serviceNamespace: n(i),
        actions: many.slice(0, 15).map((j) => ({ action: `${n(i)}:${j}` })),
      })),
    });
    expect(JSON.stringify(rec.blocks).length).toBeLessThanOrEqual(LIMITS.messageBlocksText);
  });
});
