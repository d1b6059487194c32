import {
  generatePolicyModal,
  generationConflictNote,
  generationEndedNote,
  generationFailedMessage,
  generationProgress,
  generationQueuedNote,
  generationQuotaNote,
  generationResultMessage,
  notConfiguredNote,
  policyDocumentMessages,
  policyFailedNote,
  validatePolicyModal,
  validationReply,
} from '../../../blocks/policy.ts';
import type { PolicyFinding } from '../../../src/aws/policy.ts';
import { F_NOW, F_UNUSED_ANALYZER } from '../../factories/finding.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION, LONG } from './inputs.ts';

const subject = {
  principalArn: 'arn:aws:iam::123456789012:role/ci',
  accountId: '123456789012',
  days: 30,
  userId: 'U0ALICE',
};

const validationFindings: PolicyFinding[] = [
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
];

const comparison = {
  generated: 28,
  services: 6,
  current: 240,
  currentWildcards: ['s3:*'],
  kept: 28,
  notCovered: [] as string[],
  notActionStatements: 0,
};

const policy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::logs-prod/*' }],
});

const modalMeta = {
  f: '0f1e2d3c-0000-4000-8000-000000000006',
  a: F_UNUSED_ANALYZER,
  r: 'eu-west-1',
  c: 'C0PAY0001',
  t: '1700000001.000100',
  p: 'arn:aws:iam::111111111111:role/app-backend',
};

export const policyCases: GoldenCases = {
  generationQueuedNote: {
    'one-ahead': () =>
      generationQueuedNote({ ahead: 1, accountId: '123456789012', principalArn: subject.principalArn }),
    'several-ahead': () =>
      generationQueuedNote({ ahead: 3, accountId: '123456789012', principalArn: subject.principalArn }),
  },
  generationConflictNote: {
    typical: () => generationConflictNote({ accountId: '123456789012', retryInSeconds: 29.6 }),
  },
  generationQuotaNote: {
    typical: () => generationQuotaNote({ accountId: '123456789012', quota: 50, tryAfter: F_NOW }),
  },
  policyFailedNote: {
    'hostile-error': () => policyFailedNote('Policy generation', `AccessDeniedException: ${INJECTION}`),
  },
  notConfiguredNote: {
    typical: () => notConfiguredNote('Policy generation needs `policyGeneration.roleArn`'),
  },
  generationProgress: {
    'first-poll': () =>
      generationProgress(subject, { polls: 1, startedAt: F_NOW, now: F_NOW, nextCheckSeconds: 10 }),
    'after-twelve-minutes': () =>
      generationProgress(subject, {
        polls: 9,
        startedAt: F_NOW,
        now: new Date(F_NOW.getTime() + 12 * 60_000),
      }),
  },
  generationEndedNote: {
    typical: () => generationEndedNote(subject, 'no CloudTrail trail was found'),
  },
  generationFailedMessage: {
    'failed-hostile-job-error': () =>
      generationFailedMessage(subject, {
        status: 'FAILED',
        error: { code: 'SERVICE_ERROR', message: '<@U123> *boom*' },
      }),
    canceled: () => generationFailedMessage(subject, { status: 'CANCELED' }),
    'timed-out': () => generationFailedMessage(subject, { status: 'TIMED_OUT' }),
  },
  generationResultMessage: {
    'incomplete-coverage-wildcards': () =>
      generationResultMessage({
        ...subject,
        result: { status: 'SUCCEEDED', isComplete: false, policies: ['{}'] },
        comparison,
        unreadable: [],
        noNewAccess: [{ result: 'PASS', message: 'no new access', reasons: [] }],
        findings: [],
      }),
    'complete-with-findings-and-gaps': () =>
      generationResultMessage({
        ...subject,
        result: { status: 'SUCCEEDED', isComplete: true, policies: [policy] },
        comparison: {
          ...comparison,
          notCovered: ['s3:DeleteObject', 'sqs:SendMessage'],
          notActionStatements: 1,
        },
        unreadable: ['legacy-inline'],
        noNewAccess: [
          {
            result: 'FAIL',
            message: `new access ${INJECTION}`,
            reasons: [{ description: 'grants s3:PutObject', statementId: 'S1' }],
          },
        ],
        findings: validationFindings,
      }),
  },
  policyDocumentMessages: {
    'one-short-policy': () => policyDocumentMessages([policy]),
    'backticks-and-mentions-inert': () => policyDocumentMessages(['{"Sid":"```<!channel>"}']),
    'no-policies': () => policyDocumentMessages([]),
  },
  generatePolicyModal: {
    'with-trails': () =>
      generatePolicyModal({
        meta: modalMeta,
        trails: [
          'arn:aws:cloudtrail:eu-west-1:111111111111:trail/org-trail',
          `arn:aws:cloudtrail:eu-west-1:111111111111:trail/${LONG}`,
        ],
        defaultDays: 90,
      }),
    'no-trails-listed': () => generatePolicyModal({ meta: modalMeta, trails: [], defaultDays: 30 }),
  },
  validatePolicyModal: {
    typical: () =>
      validatePolicyModal({ channel: 'C0PAY0001', resourceTypes: ['AWS::S3::Bucket', 'AWS::KMS::Key'] }),
    'no-resource-types': () => validatePolicyModal({ channel: 'C0PAY0001', resourceTypes: [] }),
  },
  validationReply: {
    'worst-first-with-public-access': () =>
      validationReply({
        policyType: 'IDENTITY_POLICY',
        findings: validationFindings,
        publicAccess: {
          resourceType: 'AWS::S3::Bucket',
          result: {
            result: 'FAIL',
            message: 'public',
            reasons: [{ description: 'index 0', statementIndex: 0 }],
          },
        },
      }),
    'no-findings': () => validationReply({ policyType: 'RESOURCE_POLICY', findings: [] }),
    'hostile-details': () =>
      validationReply({
        policyType: 'IDENTITY_POLICY',
        findings: [
          {
            findingType: 'SECURITY_WARNING',
            issueCode: INJECTION,
            details: `${INJECTION} ${LONG}`,
            learnMoreLink: 'javascript:alert(1)',
            locations: 2,
          },
        ],
      }),
  },
};
