// Policy generation and validation messages: escaping of AWS text and Block Kit limits.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { limitViolations } from '../../blocks/limits.ts';
import {
  generationConflictNote,
  generationFailedMessage,
  generationProgress,
  generationQueuedNote,
  generationResultMessage,
  policyDocumentMessages,
  validationReply,
} from '../../blocks/policy.ts';
import { displayedBlocks, displayedCode, liveMarkup } from '../helpers/slack-display.ts';

const subject = {
  principalArn: 'arn:aws:iam::123456789012:role/ci',
  accountId: '123456789012',
  days: 30,
  userId: 'U0ALICE',
};

describe('policy messages', () => {
  it('splits a very long generated policy over several blocks and messages, all within limits, reading back exactly', () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: Array.from({ length: 3000 }, (_, i) => ({
        Effect: 'Allow',
        Action: [`s3:GetObject${i}`],
        Resource: `arn:aws:s3:::bucket-${i}/<&>*`,
      })),
    });
    const messages = policyDocumentMessages([policy]);

    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(limitViolations(m)).toEqual([]);
    const body = messages.flatMap((m) => m.blocks.slice(1));
    expect(body.every((b) => b.type === 'rich_text')).toBe(true);
    const shown = displayedBlocks(body).join('');
    expect(JSON.parse(shown)).toEqual(JSON.parse(policy));
    expect(shown).toContain('"arn:aws:s3:::bucket-7/<&>*"');
    expect(messages[0]!.text).toBe(`Generated policy (part 1 of ${messages.length})`);
  });

  it('shows backticks and mentions in AWS text verbatim and inert', () => {
    const [m] = policyDocumentMessages(['{"Sid":"```<!channel>","Action":"s3:*"}']);
    expect(displayedBlocks(m!.blocks.slice(1))).toEqual([
      '{\n  "Sid": "```<!channel>",\n  "Action": "s3:*"\n}',
    ]);
    expect(liveMarkup(m!.blocks)).toEqual([]);
    expect(m!.text).toBe('Generated policy');
  });

  it('shows jobError code and message escaped', () => {
    const m = generationFailedMessage(subject, {
      status: 'FAILED',
      error: { code: 'SERVICE_ERROR', message: '<@U123> *boom*' },
    });
    expect(m.text).toBe('Policy generation failed for arn:aws:iam::123456789012:role/ci');
  });

  it('summarises validation findings worst first with issue codes and learn-more links', () => {
    const m = validationReply({
      policyType: 'IDENTITY_POLICY',
      findings: [
        {
          findingType: 'SUGGESTION',
          issueCode: 'MISSING_VERSION',
          details: 'Add a Version',
          learnMoreLink: 'https://docs.aws.amazon.com/a',
          locations: 1,
        },
        {
          findingType: 'ERROR',
          issueCode: 'INVALID_ACTION',
          details: 'The action s3:Foo does not exist.',
          learnMoreLink: 'https://docs.aws.amazon.com/b',
          locations: 1,
        },
      ],
      publicAccess: {
        resourceType: 'AWS::S3::Bucket',
        result: {
          result: 'FAIL',
          message: 'public',
          reasons: [{ description: 'index 0', statementIndex: 0 }],
        },
      },
    });
    expect(m.text).toBe('Policy validated: 1 errors, 0 security warnings, public access FAIL');
    expect(displayedBlocks(m.blocks.slice(1, 2))[0]!.split('\n')).toEqual([
      'ValidatePolicy: 1 error, 1 suggestion',
      '🔴 INVALID_ACTION The action s3:Foo does not exist. learn more',
      '🔵 MISSING_VERSION Add a Version learn more',
    ]);
    expect(displayedCode(m.blocks.slice(1, 2))).toEqual(['INVALID_ACTION', 'MISSING_VERSION']);
    expect(liveMarkup(m.blocks.slice(1, 2))).toEqual([
      '<a href="https://docs.aws.amazon.com/b"',
      '<a href="https://docs.aws.amazon.com/a"',
    ]);
    expect(displayedBlocks(m.blocks.slice(2))).toEqual([
      '❌ CheckNoPublicAccess as AWS::S3::Bucket: FAIL public\n• index 0 (statement 0)',
    ]);
  });

  it('says when CloudTrail coverage was incomplete and how wildcards were counted', () => {
    const m = generationResultMessage({
      ...subject,
      result: { status: 'SUCCEEDED', isComplete: false, policies: ['{}'] },
      comparison: {
        generated: 28,
        services: 6,
        current: 240,
        currentWildcards: ['s3:*'],
        kept: 28,
        notCovered: [],
        notActionStatements: 0,
      },
      unreadable: [],
      noNewAccess: [{ result: 'PASS', message: 'no new access', reasons: [] }],
      findings: [],
    });
    expect(m.text).toBe('Policy generated for arn:aws:iam::123456789012:role/ci: keeps 28 of 240 actions');
    expect(limitViolations(m)).toEqual([]);
  });
});

describe('policy messages with any AWS text', () => {
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 400 }),
    fc.constantFrom('<!channel>', '<@U024BE7LH>', '```', '*bold*', '&amp;', '<https://evil|x>', '\u202Eabc'),
  );
  const finding = fc.record({
    findingType: fc.constantFrom('ERROR', 'SECURITY_WARNING', 'WARNING', 'SUGGESTION' as const),
    issueCode: text,
    details: text,
    learnMoreLink: fc.oneof(text, fc.constant('https://docs.aws.amazon.com/x')),
    locations: fc.nat(5),
  });
  const check = fc.record({
    result: fc.constantFrom('PASS', 'FAIL' as const),
    message: text,
    reasons: fc.array(fc.record({ description: text, statementId: fc.option(text, { nil: undefined }) }), {
      maxLength: 15,
    }),
  });

  it('never exceeds a Block Kit limit and never lets AWS text mention anyone', () => {
    fc.assert(
      fc.property(
        fc.array(text, { minLength: 1, maxLength: 3 }),
        fc.array(finding, { maxLength: 40 }),
        fc.array(check, { minLength: 1, maxLength: 3 }),
        fc.array(text, { maxLength: 30 }),
        text,
        (policies, findings, checks, names, error) => {
          const comparison = {
            generated: 3,
            services: 1,
            current: names.length,
            currentWildcards: names,
            kept: 1,
            notCovered: names,
            notActionStatements: 1,
          };
          const messages = [
            ...policyDocumentMessages(policies),
            generationResultMessage({
              ...subject,
              result: { status: 'SUCCEEDED', isComplete: false, policies },
              comparison,
              unreadable: names,
              noNewAccess: checks,
              findings,
            }),
            validationReply({
              policyType: 'RESOURCE_POLICY',
              findings,
              publicAccess: { resourceType: 'AWS::S3::Bucket', result: checks[0]! },
            }),
            generationFailedMessage(subject, { status: 'FAILED', error: { code: error, message: error } }),
            generationQueuedNote({ ahead: 2, accountId: '123456789012', principalArn: error }),
            generationConflictNote({ accountId: '123456789012', retryInSeconds: 30 }),
            generationProgress(
              { ...subject, principalArn: error },
              { polls: 2, startedAt: new Date(0), now: new Date(60_000) },
            ),
          ];
          for (const m of messages) {
            expect(limitViolations(m)).toEqual([]);
            // Rich text is shown verbatim and never parsed; everything else must not carry markup.
            const parsed = { ...m, blocks: m.blocks.filter((b) => b.type !== 'rich_text') };
            expect(JSON.stringify(parsed)).not.toMatch(/<!channel>|<@U024BE7LH|<https:\/\/evil/);
            // The only live thing in rich text is a learn-more link to AWS's documentation.
            const live = liveMarkup(m.blocks.filter((b) => b.type === 'rich_text'));
            expect(live.filter((x) => x !== '<a href="https://docs.aws.amazon.com/x"')).toEqual([]);
          }
          // The policies read back exactly as AWS sent them.
          const shown = policyDocumentMessages(policies).map((m) =>
            displayedBlocks(m.blocks.slice(1)).join(''),
          );
          for (const [i, t] of shown.entries()) {
            const p = policies[i]!;
            // Invisible and control characters are shown escaped, so those documents read back differently.
            // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
            if (/[\p{Cf}\u2028\u2029\uD800-\uDFFF\u0000-\u0008\u000B-\u001F\u007F-\u009F]/u.test(p)) continue;
            let value: unknown;
            try {
              value = JSON.parse(p);
            } catch {
              expect(t).toBe(p.length ? p : ' ');
              continue;
            }
            expect(JSON.parse(t)).toEqual(value);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
