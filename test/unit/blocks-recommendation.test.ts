import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clean } from '../../blocks/escape.ts';
import { findingMessage } from '../../blocks/finding.ts';
import { assertWithinLimits, LIMITS, preformattedText } from '../../blocks/limits.ts';
import {
  policyCodeBlocks,
  recommendationFailedMessage,
  recommendationMessage,
} from '../../blocks/recommendation.ts';
import { recommendPollDelay, reusable } from '../../jobs/recommend.ts';
import { assessSeverity } from '../../src/findings/severity.ts';
import { F_NOW, makeFinding, makeRoute } from '../factories/finding.ts';
import { displayedBlocks, displayedCode, liveMarkup } from '../helpers/slack-display.ts';

const ROLE = 'arn:aws:iam::111111111111:role/app-backend';
const _sectionTexts = (blocks: unknown[]) =>
  blocks.flatMap((b) => {
    const s = b as { type: string; text?: { text: string } };
    return s.type === 'section' && s.text ? [s.text.text] : [];
  });

describe('recommendationMessage', () => {
  it('never lets AWS-supplied text ping, link or close a code block', () => {
    const hostile = 'arn:aws:iam::111111111111:policy/<!channel>`evil`<@U0BOSS>';
    const policy = JSON.stringify({
      Statement: [
        { Sid: '<!here> ```', Effect: 'Allow', Action: '*', Resource: '<https://evil.example|click>' },
      ],
    });
    const m = recommendationMessage({
      userId: 'U0ALICE',
      resourceArn: '<!everyone>',
      steps: [
        { action: 'DETACH_POLICY', existingPolicyId: hostile },
        { action: 'CREATE_POLICY', recommendedPolicy: policy, existingPolicyId: hostile },
      ],
      services: [{ serviceNamespace: '<!channel>', actions: [{ action: '*<@U1>*' }] }],
    });
    // Rich text is never parsed: the ARNs, actions and the policy read exactly, and nothing turns live.
    expect(liveMarkup(m.blocks)).toEqual([]);
    expect(displayedCode(m.blocks)).toEqual(['<!everyone>', hostile, hostile, '<!channel>', '*<@U1>*']);
    const pre = m.blocks.filter(
      (b) => b.type === 'rich_text' && b.elements[0]?.type === 'rich_text_preformatted',
    );
    expect(JSON.parse(displayedBlocks(pre).join(''))).toEqual(JSON.parse(policy));
    const [head] = displayedBlocks(m.blocks);
    expect(head).toBe('💡 Recommendation for <!everyone>, asked by @U0ALICE: 2 steps.');
    // What is still mrkdwn carries no markup from AWS.
    const json = JSON.stringify(m.blocks.filter((b) => b.type !== 'rich_text'));
    for (const raw of ['<!channel>', '<!here>', '<!everyone>', '<@U0BOSS>', '<@U1>', '<https://']) {
      expect(json).not.toContain(raw);
    }
    assertWithinLimits(m);
  });

  it('splits a long policy across several code blocks, each within the section limit', () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: Array.from({ length: 150 }, (_, i) => ({
        Sid: `S${i}`,
        Effect: 'Allow',
        Action: [`s3:GetObject${i}`, `s3:PutObject${i}`],
        Resource: `arn:aws:s3:::bucket-${i}/*`,
      })),
    });
    const blocks = policyCodeBlocks(policy);
    expect(blocks.length).toBeGreaterThan(3);
    const texts = blocks.map((b) => preformattedText(b));
    for (const t of texts) expect(t!.length).toBeLessThanOrEqual(LIMITS.richTextElement);
    // Nothing lost: the blocks put together (cuts fall on line breaks) are the pretty-printed document.
    expect(displayedBlocks(blocks).join('\n')).toBe(JSON.stringify(JSON.parse(policy), null, 2));
    const m = recommendationMessage({
      userId: 'U0ALICE',
      resourceArn: ROLE,
      steps: [{ action: 'CREATE_POLICY', recommendedPolicy: policy }],
    });
    assertWithinLimits(m);
  });

  it('shows a document that is not JSON as it came', () => {
    expect(displayedBlocks(policyCodeBlocks('not json & <b> `x`'))).toEqual(['not json & <b> `x`']);
  });
});

describe('recommendationFailedMessage', () => {
  it('says what AWS reported and which cases AWS does not support', () => {
    const m = recommendationFailedMessage({
      userId: 'U0ALICE',
      code: 'SERVICE_ERROR',
      message: 'a <!here> b',
    });
    const json = JSON.stringify(m.blocks);
    expect(json).not.toContain('<!here>');
  });
});

describe('recommendation polling', () => {
  it('waits 5 s, then twice as long each time, at most a minute', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(recommendPollDelay)).toEqual([
      5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000,
    ]);
  });

  it('reuses only a SUCCEEDED recommendation made after the finding changed and within a day', () => {
    const finding = makeFinding({ updatedAt: '2025-03-01T00:00:00.000Z' });
    const now = new Date('2025-03-01T12:00:00Z');
    const rec = (status: string, completedAt?: string) => ({
      status,
      steps: [],
      ...(completedAt ? { completedAt } : {}),
    });
    expect(reusable(rec('SUCCEEDED', '2025-03-01T10:00:00Z'), finding, now)).toBe(true);
    expect(reusable(rec('SUCCEEDED', '2025-02-28T23:00:00Z'), finding, now)).toBe(false);
    expect(
      reusable(rec('SUCCEEDED', '2025-03-01T10:00:00Z'), finding, new Date('2025-03-02T11:00:00Z')),
    ).toBe(false);
    expect(reusable(rec('FAILED', '2025-03-01T10:00:00Z'), finding, now)).toBe(false);
    expect(reusable(rec('SUCCEEDED'), finding, now)).toBe(false);
  });
});

const HOSTILE = [
  '<!channel>',
  '<!here>',
  '<@U0BOSS>',
  '<#C0123456>',
  '<https://evil.example|x>',
  '```',
  '`',
  '*b*',
  '\n> q\n',
  '&lt;!here&gt;',
];
const text = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.array(fc.constantFrom(...HOSTILE, 'a', ' ', '\n'), { maxLength: 12 }).map((xs) => xs.join('')),
  fc.string({ unit: 'binary', minLength: 2000, maxLength: 4000 }),
);
/** No mention, channel link or URL link may come out of AWS text. */
const RAW_MARKUP = /<[!@#]|<https?:/;

describe('recommendation and snooze rendering (property)', () => {
  it('never exceeds a Slack limit nor lets AWS text form a mention or link', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            action: fc.oneof(fc.constantFrom('CREATE_POLICY', 'DETACH_POLICY'), text),
            existingPolicyId: fc.option(text, { nil: undefined }),
            recommendedPolicy: fc.option(
              fc.oneof(
                text,
                fc
                  .array(fc.record({ Sid: text, Action: fc.array(text, { maxLength: 30 }) }), {
                    maxLength: 40,
                  })
                  .map((st) => JSON.stringify({ Statement: st })),
              ),
              { nil: undefined },
            ),
          }),
          { maxLength: 12 },
        ),
        fc.array(
          fc.record({
            serviceNamespace: text,
            lastAccessed: fc.option(text, { nil: undefined }),
            actions: fc.array(fc.record({ action: text }), { maxLength: 15 }),
          }),
          { maxLength: 25 },
        ),
        text,
        (steps, services, resourceArn) => {
          const m = recommendationMessage({ userId: 'U0ALICE', resourceArn, steps, services });
          assertWithinLimits(m);
          // Rich text is shown as written: nothing in it turns live (the asker is a user element).
          expect(liveMarkup(m.blocks)).toEqual([]);
          expect(JSON.stringify(m.blocks.filter((b) => b.type !== 'rich_text'))).not.toMatch(RAW_MARKUP);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('shows a snooze reason escaped and within limits', () => {
    fc.assert(
      fc.property(text, (reason) => {
        const finding = makeFinding();
        const m = findingMessage({
          finding,
          severity: assessSeverity(finding),
          route: makeRoute(),
          consoleUrl: 'https://console.aws.amazon.com',
          now: F_NOW,
          state: { status: 'ACTIVE', snoozed: { by: 'U0ALICE', until: '2025-03-08T12:00:00.000Z', reason } },
        });
        assertWithinLimits(m);
        const [first] = displayedBlocks(m.blocks);
        const shown = clean(reason);
        // The reason reads as typed, on one line and without invisible characters; nothing in it is live.
        expect(first!.split('\n')[0]).toBe(
          `💤 Snoozed by @U0ALICE until 2025-03-08${reason === '' ? '' : `: ${shown.length <= 500 ? shown : `${shown.slice(0, 499).replace(/[\uD800-\uDBFF]$/, '')}…`}`}`,
        );
        expect(liveMarkup(m.blocks.slice(0, 1))).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
