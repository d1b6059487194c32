import { describe, expect, it } from 'vitest';
import { assertWithinLimits } from '../../blocks/limits.ts';
import {
  analyzerMissingNotice,
  analyzerNotActiveNotice,
  analyzerScanFailedNotice,
  channelFallbackNotice,
  duplicateUnusedAnalyzersNotice,
  fallbackNoteBlock,
  serviceLinkedUnusedNotice,
  unusedAnalyzerMissingNotice,
} from '../../blocks/notice.ts';
import { makeAnalyzer } from '../factories/finding.ts';

// The exact blocks of each notice are golden fixtures (test/golden/<notice>/); these check the
// notification text and the structure the delivery code relies on.
describe('admin notices', () => {
  it('analyzerMissingNotice names the regional kinds missing and the type to create for each', () => {
    const m = analyzerMissingNotice({
      region: 'ap-southeast-2',
      missing: [
        { kind: 'external', type: 'ORGANIZATION' },
        {
          kind: 'internal',
          type: 'ACCOUNT_INTERNAL_ACCESS',
          orgInternalElsewhere: makeAnalyzer({ name: 'org-internal', region: 'us-east-1', kind: 'internal' }),
        },
      ],
      organization: true,
    });
    assertWithinLimits(m);
    expect(m.text).toBe(
      'No external-access analyzer in ap-southeast-2: resources shared outside the account or organization there are not being checked. No internal-access analyzer in ap-southeast-2: access to critical resources from inside the account or organization there are not being checked.',
    );
  });

  it('unusedAnalyzerMissingNotice asks for one analyzer for the zone of trust, not one per region', () => {
    const m = unusedAnalyzerMissingNotice({
      zone: { kind: 'organization', adminAccount: '111111111111' },
      create: { type: 'ORGANIZATION_UNUSED_ACCESS', region: 'us-east-1' },
      scannedRegions: ['us-east-1', 'eu-west-1'],
      accountName: (id) => (id === '111111111111' ? 'security' : undefined),
    });
    assertWithinLimits(m);
    expect(m.text).toBe(
      'No unused-access analyzer for the organization in the scanned regions (us-east-1, eu-west-1).',
    );

    const single = unusedAnalyzerMissingNotice({
      zone: { kind: 'account', accountId: '111111111111' },
      create: { type: 'ACCOUNT_UNUSED_ACCESS', region: 'eu-west-1' },
      scannedRegions: ['eu-west-1'],
      otherAccounts: ['222222222222'],
    });
    expect(single.text).toBe(
      'No unused-access analyzer for account 111111111111 in the scanned regions (eu-west-1).',
    );
  });

  it('duplicateUnusedAnalyzersNotice names every analyzer once, in one notice', () => {
    const a = makeAnalyzer({ name: 'org-unused', kind: 'unused', region: 'us-east-1' });
    const b = makeAnalyzer({ name: 'org-unused', kind: 'unused', region: 'eu-west-1' });
    const m = duplicateUnusedAnalyzersNotice({ zone: { kind: 'organization' }, analyzers: [a, b] });
    assertWithinLimits(m);
    expect(m.text).toBe(
      '2 unused-access analyzers cover the organization (org-unused in us-east-1, org-unused in eu-west-1): same findings, billed per analyzer.',
    );
  });

  it('serviceLinkedUnusedNotice says the findings are shown read-only and why', () => {
    const m = serviceLinkedUnusedNotice({
      zone: { kind: 'account', accountId: '111111111111' },
      analyzer: makeAnalyzer({
        name: '_AccessAnalyzerForSecurityHub-abc',
        kind: 'unused',
        region: 'us-east-1',
        managedBy: 'securityhubv2.amazonaws.com',
      }),
    });
    assertWithinLimits(m);
    expect(m.text).toBe(
      'Unused access for account 111111111111 comes only from the service-linked analyzer \u02CDAccessAnalyzerForSecurityHub-abc; its findings are shown read-only.',
    );
  });

  it('analyzerScanFailedNotice says nothing was checked and that the next scan retries', () => {
    const m = analyzerScanFailedNotice({
      analyzer: makeAnalyzer(),
      error: 'AccessAnalyzer.ListFindingsV2: ThrottlingException: Rate exceeded',
      attempts: 8,
    });
    assertWithinLimits(m);
    expect(m.text).toBe(
      'Scanning analyzer org-external (eu-west-1) failed: its findings were not checked in this scan.',
    );
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
