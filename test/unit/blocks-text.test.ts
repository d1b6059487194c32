// The top-level `text` of a message is what push notifications and screen readers get, and Slack
// parses it like mrkdwn: a mention there notifies people. Golden cases for the surfaces that carried
// raw values (the property test in blocks-limits.test.ts covers every builder).
import { describe, expect, it } from 'vitest';
import { auditReply, ownersReply } from '../../blocks/command-replies.ts';
import { unknownOwnerEmailsNotice } from '../../blocks/digest.ts';
import { archivedReceipt, snoozedReceipt } from '../../blocks/receipts.ts';

describe('notification text', () => {
  it('escapes archive and snooze reasons', () => {
    expect(archivedReceipt({ userId: 'U0ALICE01', reason: 'ok <!channel> <@U0BOSS01>' }).text).toBe(
      'Archived by U0ALICE01: ok &lt;!channel&gt; &lt;@U0BOSS01&gt;',
    );
    expect(
      snoozedReceipt({ userId: 'U0ALICE01', days: 7, until: '2030-01-08T00:00:00Z', reason: '<!here> soon' })
        .text,
    ).toBe('Snoozed by U0ALICE01 until 2030-01-08: &lt;!here&gt; soon');
  });

  it('escapes owner e-mails from AWS tags in the admin notice', () => {
    expect(unknownOwnerEmailsNotice(['<!channel>@evil.example', 'ops\u200B@example.com']).text).toBe(
      'Owner e-mails the digest cannot DM: &lt;!channel&gt;@evil.example, ops@example.com',
    );
  });

  it('escapes the /access owners answer, which quotes tag values', () => {
    expect(ownersReply({ ok: true, text: "rule #1: yes — tag team is '<!everyone>'" }).text).toBe(
      "rule #1: yes — tag team is '&lt;!everyone&gt;'",
    );
  });

  it('counts one audit entry in the singular', () => {
    const entry = {
      id: '1-0',
      at: '2030-01-01T00:00:00Z',
      actor: 'U0ALICE01',
      action: 'archive',
      outcome: 'succeeded' as const,
    };
    expect(auditReply([entry]).text).toBe('1 audit entry');
    expect(auditReply([entry, { ...entry, id: '2-0' }]).text).toBe('2 audit entries');
  });
});
