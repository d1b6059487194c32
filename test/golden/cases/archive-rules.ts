import {
  archiveRuleBlockedModal,
  archiveRuleDeletedNote,
  archiveRuleLoadingModal,
  archiveRuleModal,
  archiveRuleReceipt,
  archiveRuleRefusedNote,
  archiveRulesReply,
} from '../../../blocks/archive-rules.ts';
import type { ArchiveFilter } from '../../../src/findings/archive-rule.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION, LONG, USER } from './inputs.ts';

const EXTERNAL: ArchiveFilter = {
  resourceType: { eq: ['AWS::S3::Bucket'] },
  resourceOwnerAccount: { eq: ['111122223333'] },
  isPublic: { eq: ['false'] },
  'principal.AWS': { eq: ['999988887777', 'arn:aws:iam::999988887777:role/*'] },
  'condition.aws:SourceVpc': { eq: ['vpc-1a2b3c'] },
};
const UNUSED: ArchiveFilter = {
  resourceType: { eq: ['AWS::IAM::Role'] },
  resourceOwnerAccount: { eq: ['111122223333'] },
  findingType: { eq: ['UnusedIAMRole'] },
};
const ORG_UNUSED = {
  arn: 'arn:aws:access-analyzer:us-east-1:111122223333:analyzer/org-unused',
  name: 'org-unused',
  region: 'us-east-1',
};

export const archiveRuleCases: GoldenCases = {
  archiveRuleLoadingModal: { loading: () => archiveRuleLoadingModal() },
  archiveRuleBlockedModal: {
    'finding-resolved': () => archiveRuleBlockedModal('the finding is resolved in AWS now.'),
  },
  archiveRuleModal: {
    'external-with-principals': () =>
      archiveRuleModal({
        meta: { f: 'f-1', c: 'C0SEC0001', t: '1795000000.000100' },
        resource: { type: 'AWS::S3::Bucket', arn: 'arn:aws:s3:::logs-prod' },
        filter: EXTERNAL,
        left: ['principal.Service (not an archive rule filter key)'],
        count: 3,
        uncounted: 2,
        analyzers: [
          { name: 'org-external', region: 'us-east-1' },
          { name: 'org-external', region: 'eu-west-1' },
        ],
        defaultName: 'similar-externalaccess-1a2b3c4d',
      }),
    'unused-one-match': () =>
      archiveRuleModal({
        meta: { f: 'f-2' },
        resource: { type: 'AWS::IAM::Role', arn: 'arn:aws:iam::111122223333:role/ci' },
        filter: UNUSED,
        left: [],
        count: 1,
        analyzers: [ORG_UNUSED],
        defaultName: 'similar-unusediamrole-5e6f7a8b',
      }),
  },
  archiveRuleReceipt: {
    created: () =>
      archiveRuleReceipt({
        userId: USER,
        ruleName: 'unused-sandbox-roles',
        filter: UNUSED,
        analyzers: [ORG_UNUSED],
        matched: 14,
      }),
    'hostile-values': () =>
      archiveRuleReceipt({
        userId: USER,
        ruleName: 'r',
        filter: { resource: { contains: [INJECTION, LONG] } },
        analyzers: [{ name: INJECTION, region: 'us-east-1', existed: true }],
        matched: 1,
      }),
  },
  archiveRuleRefusedNote: {
    'name-taken': () =>
      archiveRuleRefusedNote({
        what: 'archive rule taken',
        why: 'analyzer org-unused (us-east-1) already has a rule of that name with other criteria; choose another name',
      }),
    'aws-refused': () =>
      archiveRuleRefusedNote({
        what: 'archive rule r',
        why: `AWS refused it as invalid (ValidationException): ${INJECTION}`,
      }),
  },
  archiveRulesReply: {
    'rules-and-an-error': () =>
      archiveRulesReply({
        canDelete: true,
        analyzers: [
          {
            analyzer: ORG_UNUSED,
            rules: [{ ruleName: 'sandbox-roles', filter: UNUSED, active: 9, archived: 5 }],
          },
          {
            analyzer: {
              arn: 'arn:aws:access-analyzer:eu-west-1:1:analyzer/x',
              name: 'x',
              region: 'eu-west-1',
            },
            rules: [],
            error: "the bot's role may not do this (AccessDeniedException): denied",
          },
        ],
      }),
    'none-read-only': () =>
      archiveRulesReply({ canDelete: false, analyzers: [{ analyzer: ORG_UNUSED, rules: [] }] }),
  },
  archiveRuleDeletedNote: {
    deleted: () => archiveRuleDeletedNote({ userId: USER, ruleName: 'sandbox-roles', analyzer: ORG_UNUSED }),
    'already-gone': () =>
      archiveRuleDeletedNote({
        userId: USER,
        ruleName: 'sandbox-roles',
        analyzer: ORG_UNUSED,
        alreadyGone: true,
      }),
  },
};
