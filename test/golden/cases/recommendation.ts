import {
  policyCodeBlocks,
  recommendationFailedMessage,
  recommendationMessage,
  recommendationTimedOutMessage,
} from '../../../blocks/recommendation.ts';
import type { GoldenCases } from '../golden.ts';
import { LONG } from './inputs.ts';

const ROLE = 'arn:aws:iam::111111111111:role/app-backend';
const hostile = 'arn:aws:iam::111111111111:policy/<!channel>`evil`<@U0BOSS>';

export const recommendationCases: GoldenCases = {
  recommendationMessage: {
    'detach-and-create': () =>
      recommendationMessage({
        userId: 'U0ALICE',
        resourceArn: ROLE,
        steps: [
          { action: 'DETACH_POLICY', existingPolicyId: 'arn:aws:iam::aws:policy/AdministratorAccess' },
          { action: 'CREATE_POLICY', recommendedPolicy: '{"Version":"2012-10-17","Statement":[]}' },
        ],
        services: [
          {
            serviceNamespace: 'ec2',
            lastAccessed: '2024-06-01T00:00:00Z',
            actions: [{ action: 'ec2:RunInstances' }],
          },
        ],
      }),
    'with-apply-button': () =>
      recommendationMessage({
        userId: 'U0ALICE',
        resourceArn: ROLE,
        steps: [
          {
            action: 'CREATE_POLICY',
            recommendedPolicy: '{"Version":"2012-10-17","Statement":[]}',
            existingPolicyId: 'arn:aws:iam::111111111111:policy/app-broad',
          },
          { action: 'DETACH_POLICY', existingPolicyId: 'arn:aws:iam::111111111111:policy/app-broad' },
        ],
        apply: {
          f: 'f-1',
          a: 'arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/org-unused',
          r: 'eu-west-1',
        },
      }),
    'no-change-reused': () =>
      recommendationMessage({
        userId: 'U0ALICE',
        resourceArn: ROLE,
        steps: [],
        reusedFrom: '2025-03-01T10:00:00.000Z',
      }),
    'hostile-text-inert': () =>
      recommendationMessage({
        userId: 'U0ALICE',
        resourceArn: '<!everyone>',
        steps: [
          { action: 'DETACH_POLICY', existingPolicyId: hostile },
          {
            action: 'CREATE_POLICY',
            recommendedPolicy: JSON.stringify({
              Statement: [
                {
                  Sid: '<!here> ```',
                  Effect: 'Allow',
                  Action: '*',
                  Resource: '<https://evil.example|click>',
                },
              ],
            }),
            existingPolicyId: hostile,
          },
        ],
        services: [{ serviceNamespace: '<!channel>', actions: [{ action: '*<@U1>*' }] }],
      }),
  },
  recommendationFailedMessage: {
    'hostile-aws-message': () =>
      recommendationFailedMessage({ userId: 'U0ALICE', code: 'SERVICE_ERROR', message: 'a <!here> b' }),
    'long-message': () =>
      recommendationFailedMessage({ userId: 'U0ALICE', code: 'UNSUPPORTED', message: LONG }),
  },
  recommendationTimedOutMessage: {
    typical: () => recommendationTimedOutMessage({ userId: 'U0ALICE', minutes: 5 }),
  },
  policyCodeBlocks: {
    'pretty-printed-json': () =>
      policyCodeBlocks('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*"}]}'),
    'not-json-as-it-came': () => policyCodeBlocks('not json & <b>'),
  },
};
