import { describe, expect, it } from 'vitest';
import { assertWithinLimits } from '../../blocks/limits.ts';
import {
  analyzerMissingNotice,
  analyzerNotActiveNotice,
  channelFallbackNotice,
  fallbackNoteBlock,
  scanAccessDeniedNotice,
} from '../../blocks/notice.ts';
import { makeAnalyzer } from '../factories/finding.ts';

describe('admin notices', () => {
  it('analyzerMissingNotice says what is not being checked and how to fix it', () => {
    const m = analyzerMissingNotice({ region: 'ap-southeast-2', kinds: ['unused'] });
    assertWithinLimits(m);
    expect(m.text).toBe(
      'No unused-access analyzer in ap-southeast-2: unused roles, keys and permissions there are not being checked.',
    );
    expect(JSON.stringify(m.blocks)).toContain('--type ACCOUNT_UNUSED_ACCESS');
  });

  it('analyzerNotActiveNotice explains the status reason in plain words', () => {
    const m = analyzerNotActiveNotice({
      analyzer: makeAnalyzer({ status: 'FAILED', statusReason: 'AWS_SERVICE_ACCESS_DISABLED' }),
    });
    assertWithinLimits(m);
    expect(m.text).toBe(
      'Analyzer org-external (external-access, eu-west-1) has failed: trusted access for IAM Access Analyzer was turned off in AWS Organizations.',
    );
    const unknown = analyzerNotActiveNotice({
      analyzer: makeAnalyzer({ status: 'DISABLED', statusReason: 'SOMETHING_<!here>', kind: 'unused' }),
    });
    expect(unknown.text).toBe(
      'Analyzer org-external (unused-access, eu-west-1) is disabled: SOMETHING\u02CD&lt;!here&gt;.',
    );
  });

  it('scanAccessDeniedNotice names the operation and the permission to grant', () => {
    const m = scanAccessDeniedNotice({
      region: 'eu-west-1',
      operation: 'GetRole',
      message: 'not authorized to perform: iam:GetRole on <@U1>',
    });
    assertWithinLimits(m);
    const body = m.blocks[0]?.type === 'section' ? m.blocks[0].text?.text : '';
    expect(body).toContain('Allow `iam:GetRole`');
    expect(body).toContain('on &lt;@U1&gt;');
  });

  it('channelFallbackNotice', () => {
    const m = channelFallbackNotice({ channel: '#team-x', error: 'channel_not_found', findingCount: 3 });
    assertWithinLimits(m);
    expect(m.text).toBe(
      'Could not post to #team-x (channel_not_found); its 3 findings go to the default channel.',
    );
    const other = channelFallbackNotice({ channel: 'C0123456789', error: 'weird_error', findingCount: 1 });
    expect(other.blocks[0]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: '⚠️ Could not post to <#C0123456789> (`weird_error`); its finding goes to the default channel. Invite the bot or fix the routing rule.',
      },
    });
  });

  it('fallbackNoteBlock', () => {
    expect(fallbackNoteBlock('#team-x', 'not_in_channel')).toEqual({
      type: 'context',
      block_id: 'finding_fallback_note',
      elements: [
        { type: 'mrkdwn', text: '↪️ Posted here because #team-x could not be used (`not_in_channel`).' },
      ],
    });
  });
});
