import {
  analyzerMissingNotice,
  analyzerNotActiveNotice,
  analyzerScanFailedNotice,
  channelFallbackNotice,
  coverageRestoredNotice,
  createAnalyzerButton,
  createAnalyzerNote,
  duplicateUnusedAnalyzersNotice,
  fallbackNoteBlock,
  scanAccessDeniedNotice,
  serviceLinkedUnusedNotice,
  unusedAnalyzerMissingNotice,
} from '../../../blocks/notice.ts';
import { makeAnalyzer } from '../../factories/finding.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION, LONG } from './inputs.ts';

const securityHub = makeAnalyzer({
  name: '_AccessAnalyzerForSecurityHub-abc',
  kind: 'unused',
  region: 'us-east-1',
  managedBy: 'securityhubv2.amazonaws.com',
});

export const noticeCases: GoldenCases = {
  createAnalyzerButton: {
    'organization-external': () =>
      createAnalyzerButton({ region: 'eu-west-1', kind: 'external', type: 'ORGANIZATION' }),
  },
  createAnalyzerNote: {
    created: () =>
      createAnalyzerNote({
        userId: 'U0ALICE01',
        region: 'eu-west-1',
        kind: 'external',
        outcome: 'created',
        name: 'access-patrol-external',
        type: 'ORGANIZATION',
      }),
    covered: () =>
      createAnalyzerNote({
        userId: 'U0ALICE01',
        region: 'us-east-1',
        kind: 'unused',
        outcome: 'covered',
        why: 'an unused-access analyzer already covers this account or organization (one is enough)',
      }),
    refused: () =>
      createAnalyzerNote({
        userId: 'U0ALICE01',
        region: 'us-east-1',
        kind: 'external',
        outcome: 'refused',
        why: 'an AWS quota is reached (ServiceQuotaExceededException): <!channel> 1 per Region',
      }),
  },
  analyzerMissingNotice: {
    'organization-internal-elsewhere': () =>
      analyzerMissingNotice({
        region: 'ap-southeast-2',
        missing: [
          { kind: 'external', type: 'ORGANIZATION' },
          {
            kind: 'internal',
            type: 'ACCOUNT_INTERNAL_ACCESS',
            orgInternalElsewhere: makeAnalyzer({
              name: 'org-internal',
              region: 'us-east-1',
              kind: 'internal',
            }),
          },
        ],
        organization: true,
      }),
    'account-external-only': () =>
      analyzerMissingNotice({ region: 'eu-west-1', missing: [{ kind: 'external', type: 'ACCOUNT' }] }),
  },
  unusedAnalyzerMissingNotice: {
    'organization-named-admin': () =>
      unusedAnalyzerMissingNotice({
        zone: { kind: 'organization', adminAccount: '111111111111' },
        create: { type: 'ORGANIZATION_UNUSED_ACCESS', region: 'us-east-1' },
        scannedRegions: ['us-east-1', 'eu-west-1'],
        accountName: (id) => (id === '111111111111' ? 'security' : undefined),
      }),
    'account-other-accounts-not-covered': () =>
      unusedAnalyzerMissingNotice({
        zone: { kind: 'account', accountId: '111111111111' },
        create: { type: 'ACCOUNT_UNUSED_ACCESS', region: 'eu-west-1' },
        scannedRegions: ['eu-west-1'],
        otherAccounts: ['222222222222'],
      }),
    'hostile-account-name': () =>
      unusedAnalyzerMissingNotice({
        zone: { kind: 'account', accountId: '111111111111' },
        create: { type: 'ACCOUNT_UNUSED_ACCESS', region: 'eu-west-1' },
        scannedRegions: ['eu-west-1'],
        accountName: () => INJECTION,
      }),
  },
  duplicateUnusedAnalyzersNotice: {
    'two-in-one-organization': () =>
      duplicateUnusedAnalyzersNotice({
        zone: { kind: 'organization' },
        analyzers: [
          makeAnalyzer({ name: 'org-unused', kind: 'unused', region: 'us-east-1' }),
          makeAnalyzer({ name: 'org-unused', kind: 'unused', region: 'eu-west-1' }),
        ],
      }),
  },
  serviceLinkedUnusedNotice: {
    'security-hub': () =>
      serviceLinkedUnusedNotice({
        zone: { kind: 'account', accountId: '111111111111' },
        analyzer: securityHub,
      }),
  },
  analyzerScanFailedNotice: {
    'throttled-after-retries': () =>
      analyzerScanFailedNotice({
        analyzer: makeAnalyzer(),
        error: 'AccessAnalyzer.ListFindingsV2: ThrottlingException: Rate exceeded',
        attempts: 8,
      }),
    'one-attempt-long-hostile-error': () =>
      analyzerScanFailedNotice({ analyzer: makeAnalyzer(), error: `${INJECTION} ${LONG}`, attempts: 1 }),
  },
  analyzerNotActiveNotice: {
    'failed-known-reason': () =>
      analyzerNotActiveNotice({
        analyzer: makeAnalyzer({ status: 'FAILED', statusReason: 'AWS_SERVICE_ACCESS_DISABLED' }),
      }),
    'disabled-unknown-reason-escaped': () =>
      analyzerNotActiveNotice({
        analyzer: makeAnalyzer({ status: 'DISABLED', statusReason: 'SOMETHING_<!here>', kind: 'unused' }),
      }),
  },
  scanAccessDeniedNotice: {
    'iam-operation-hostile-message': () =>
      scanAccessDeniedNotice({
        region: 'eu-west-1',
        operation: 'GetRole',
        message: 'not authorized to perform: iam:GetRole on <@U1>',
      }),
    'analyzer-operation': () =>
      scanAccessDeniedNotice({
        region: 'eu-west-1',
        analyzerArn: makeAnalyzer().arn,
        operation: 'ListFindingsV2',
        message: LONG,
      }),
  },
  channelFallbackNotice: {
    'named-channel-not-found': () =>
      channelFallbackNotice({ channel: '#team-x', error: 'channel_not_found', findingCount: 3 }),
    'channel-id-unknown-error': () =>
      channelFallbackNotice({ channel: 'C0123456789', error: 'weird_error', findingCount: 1 }),
    'count-unknown-hostile-channel': () =>
      channelFallbackNotice({ channel: INJECTION, error: 'not_in_channel' }),
  },
  fallbackNoteBlock: {
    'not-in-channel': () => fallbackNoteBlock('#team-x', 'not_in_channel'),
  },
  coverageRestoredNotice: {
    'in-a-region': () => coverageRestoredNotice({ region: 'eu-west-1', what: 'an external-access analyzer' }),
    'without-region-hostile': () => coverageRestoredNotice({ what: INJECTION }),
  },
};
