// The workspace page's Block Kit rendering: mrkdwn shown as Slack shows it (escapes, mentions, links,
// formatting at word boundaries), nothing from a message able to produce markup of its own, and
// accessible controls (buttons named by their label, labelled inputs, titled dialogs).
import { describe, expect, it } from 'vitest';
import { code, escapeMrkdwn } from '../../blocks/escape.ts';
import { bold, ident, person, richLines } from '../../blocks/rich.ts';
import type { SandboxView } from '../../sandbox/slack/surfaces.ts';
import { mrkdwnToHtml } from '../../sandbox/workspace/mrkdwn.ts';
import { messageBodyHtml, viewHtml } from '../../sandbox/workspace/render.ts';

const ctx = {
  userName: (id: string) => ({ U0ALICE01: 'alice' })[id],
  channelName: (id: string) => ({ C0PLATFORM: 'team-platform' })[id],
};
/** The text a reader sees: tags dropped, HTML entities decoded. */
const seen = (html: string) =>
  html
    .replace(/<br>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

describe('mrkdwn on the workspace page', () => {
  it('shows escaped AWS text exactly as it was, with no mention, link or formatting in it', () => {
    const hostile =
      '<https://evil.example|click> *bold* &amp; _italic_ ~strike~ `code` <!everyone> <@U024BE7LH>';
    const html = mrkdwnToHtml(
      `Condition ${escapeMrkdwn(hostile)} and ${code('arn:aws:s3:::<!channel>-*')}`,
      ctx,
    );
    expect(html).not.toMatch(/<a |<strong>|<em>|<del>|class="mention/);
    expect(seen(html).replace(/\u200B/g, '')).toContain(
      '<https://evil.example|click> ∗bold∗ &amp; ˍitalicˍ ∼strike∼',
    );
    expect(seen(html)).toContain('arn:aws:s3:::<!channel>-*');
  });

  it('renders mentions, channel links and links the bot builds', () => {
    const html = mrkdwnToHtml(
      'Archived by <@U0ALICE01> in <#C0PLATFORM>, see <https://console.aws.amazon.com/x?a=1&amp;b=2|the console>',
      ctx,
    );
    expect(html).toContain('<span class="mention">@alice</span>');
    expect(html).toContain('<a class="channel-link" href="#/C0PLATFORM">#team-platform</a>');
    expect(html).toContain('href="https://console.aws.amazon.com/x?a=1&amp;b=2"');
    expect(seen(html)).toBe('Archived by @alice in #team-platform, see the console');
  });

  it('formats *bold*, _italic_ and ~strike~ only at word boundaries', () => {
    expect(mrkdwnToHtml('*High* and _new_ and ~gone~', ctx)).toBe(
      '<strong>High</strong> and <em>new</em> and <del>gone</del>',
    );
    expect(mrkdwnToHtml('a*b*c ci_deployer_role', ctx)).toBe('a*b*c ci_deployer_role');
  });

  it('keeps code spans and preformatted blocks verbatim', () => {
    const html = mrkdwnToHtml('`s3:*` and ```\n{"Action": "s3:*", "<b>": 1}\n```', ctx);
    expect(html).toContain('<code>s3:*</code>');
    expect(html).toContain('<pre>{&quot;Action&quot;: &quot;s3:*&quot;, &quot;&lt;b&gt;&quot;: 1}\n</pre>');
  });

  it('never links a javascript: URL', () => {
    const html = mrkdwnToHtml('<javascript:alert(1)|click me>', ctx);
    expect(html).not.toContain('href');
    expect(seen(html)).toBe('click me');
  });
});

describe('Block Kit on the workspace page', () => {
  it('shows code-styled rich text verbatim in <code>, bold in <strong>, users as mentions, nothing parsed', () => {
    const html = messageBodyHtml(
      {
        text: 'x',
        blocks: [
          richLines([
            [bold('Actions'), ': ', ident('s3:Get*_`x`~'), ' by ', person('U0ALICE01')],
            [bold('Principal'), ': ', ident('<!channel> &amp; <https://evil.example|x>')],
          ]),
        ],
      },
      ctx,
    );
    expect(html).toContain('<code>s3:Get*_`x`~</code>');
    expect(html).toContain('<code>&lt;!channel&gt; &amp;amp; &lt;https://evil.example|x&gt;</code>');
    expect(html).toContain('<strong>Actions</strong>');
    expect(html).toContain('<span class="mention">@alice</span>');
    expect(html).not.toMatch(/<a |class="mention broadcast"|<em>|<del>/);
    expect(seen(html)).toBe(
      'Actions: s3:Get*_`x`~ by @alice\nPrincipal: <!channel> &amp; <https://evil.example|x>',
    );
  });

  it('renders buttons as <button> named by their label, with their place in the message', () => {
    const html = messageBodyHtml(
      {
        text: 'finding',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: 'Role <ci-deployer> & co' } },
          {
            type: 'actions',
            elements: [
              { type: 'button', text: { type: 'plain_text', text: 'Archive' }, action_id: 'a', value: 'v' },
              {
                type: 'button',
                text: { type: 'plain_text', text: 'Delete role' },
                action_id: 'd',
                style: 'danger',
                confirm: {
                  title: { type: 'plain_text', text: 'Delete ci-deployer?' },
                  text: { type: 'mrkdwn', text: 'A backup is saved *first*.' },
                  confirm: { type: 'plain_text', text: 'Delete role' },
                  deny: { type: 'plain_text', text: 'Keep it' },
                },
              },
            ],
          },
        ],
      },
      ctx,
    );
    expect(html).toContain('<h3 class="bk-header">Role &lt;ci-deployer&gt; &amp; co</h3>');
    expect(html).toContain(
      '<button type="button" class="bk-button" data-block="1" data-element="0">Archive</button>',
    );
    expect(html).toContain(
      'class="bk-button danger" data-block="1" data-element="1" data-confirm>Delete role</button>',
    );
    expect(html).toContain('role="alertdialog" aria-modal="true" aria-labelledby="confirm-title"');
    expect(html).toContain('A backup is saved <strong>first</strong>.');
    expect(html).toContain('data-deny>Keep it</button>');
    // The button's value never reaches the page: the dispatcher reads it from the stored message.
    expect(html).not.toContain('"v"');
  });

  it('renders a modal as a dialog named by its title, with labelled inputs and their errors', () => {
    const view = {
      id: 'V1',
      hash: 'h1',
      title: { type: 'plain_text', text: 'Archive finding' },
      submit: { type: 'plain_text', text: 'Archive' },
      close: { type: 'plain_text', text: 'Cancel' },
      blocks: [
        {
          type: 'input',
          block_id: 'reason',
          label: { type: 'plain_text', text: 'Why is this access acceptable?' },
          element: { type: 'plain_text_input', action_id: 'r', multiline: true, max_length: 500 },
        },
        {
          type: 'input',
          block_id: 'days',
          label: { type: 'plain_text', text: 'For how long?' },
          element: {
            type: 'radio_buttons',
            action_id: 'd',
            options: [
              { text: { type: 'plain_text', text: '1 day' }, value: '1' },
              { text: { type: 'plain_text', text: '7 days' }, value: '7' },
            ],
          },
        },
      ],
      errors: { reason: 'Say why.' },
    } as unknown as SandboxView;
    const html = viewHtml(view, ctx);
    expect(html).toContain('role="dialog" aria-modal="true" aria-labelledby="modal-title-V1"');
    expect(html).toContain('<h2 id="modal-title-V1">Archive finding</h2>');
    expect(html).toContain('<label for="in-0">Why is this access acceptable?</label>');
    expect(html).toMatch(
      /<textarea id="in-0" name="reason" data-block-id="reason" data-action-id="r" aria-describedby="in-0-err" aria-invalid="true"/,
    );
    expect(html).toContain('<p class="field-error" id="in-0-err">Say why.</p>');
    expect(html).toContain('<legend>For how long?</legend>');
    expect(html).toMatch(/<label class="choice"><input type="radio"[^>]*value="7"[^>]*> 7 days<\/label>/);
    expect(html).toContain('<button type="submit" class="bk-button primary">Archive</button>');
    expect(html).toContain('data-close-view>Cancel</button>');
  });
});
