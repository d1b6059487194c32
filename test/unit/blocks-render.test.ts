import { describe, expect, it } from 'vitest';
import { findingMessage } from '../../blocks/finding.ts';
import { preformattedBlocks } from '../../blocks/limits.ts';
import { renderText } from '../../blocks/render.ts';
import { bold, ident, person, richLines } from '../../blocks/rich.ts';
import { assessSeverity } from '../../src/findings/severity.ts';
import { F_NOW, makeFinding, makeRoute } from '../factories/finding.ts';

describe('renderText', () => {
  it('renders a finding for a terminal', () => {
    const finding = makeFinding({ findingType: 'UnusedIAMRole' });
    const out = renderText(
      findingMessage({
        finding,
        severity: assessSeverity(finding),
        route: makeRoute(),
        consoleUrl: 'https://console.aws.amazon.com',
        now: F_NOW,
      }),
    );
    expect(out).toContain('🟡 *Role `ci-deployer` unused for 97 days*');
    expect(out).toContain('  Severity: 🟡 Medium (unused role)');
    expect(out).toContain('  Last used: 2024-11-24');
    expect(out).toMatch(
      /^\[Open in console\]\(https:\/\/console\.aws\.amazon\.com\/\S+\) \[Archive\] \[Archive similar\] \[Generate policy\] \[!Quarantine role\] \[Snooze\]$/m,
    );
  });

  it('renders a form field as its label and the value it starts with', () => {
    const out = renderText({
      text: 'x',
      blocks: [
        {
          type: 'input',
          label: { type: 'plain_text', text: 'Rule name' },
          element: {
            type: 'plain_text_input',
            action_id: 'name',
            initial_value: 'similar-unusediamrole-1a2b',
          },
        },
        {
          type: 'input',
          optional: true,
          label: { type: 'plain_text', text: 'Until' },
          element: { type: 'datepicker', action_id: 'until' },
        },
      ],
    });
    expect(out).toBe('Rule name: [similar-unusediamrole-1a2b]\nUntil (optional): [datepicker]');
  });

  it('renders headers, dividers, links and unescapes entities for display', () => {
    const out = renderText({
      text: 'x',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Hello' } },
        { type: 'divider' },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: 'a &lt;!channel&gt; &amp; <https://x.example|site> <#C0123456>' },
        },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: 'one' },
            { type: 'plain_text', text: 'two' },
          ],
        },
      ],
    });
    expect(out).toBe('=== HELLO ===\n----\na <!channel> & site (https://x.example) #C0123456\n  one | two');
  });

  it('shows rich text as written: identifiers in backticks, bold runs in stars, people as @id', () => {
    const out = renderText({
      text: 'x',
      blocks: [
        richLines([
          [bold('Role '), { id: 'a`b*_c', bold: true }, bold(' unused'), ' by ', person('U0ALICE')],
          [bold('Done'), ' ', ident('<!channel>'), ' &amp;'],
        ]),
        ...preformattedBlocks('{\n  "Action": "s3:*"\n}'),
      ],
    });
    expect(out).toBe(
      '*Role `a`b*_c` unused* by @U0ALICE\n*Done* `<!channel>` &amp;\n{\n  "Action": "s3:*"\n}',
    );
  });

  it('falls back to the text without blocks', () => {
    expect(renderText({ text: 'a &amp; b', blocks: [] })).toBe('a & b');
  });
});
