// Counting and comparing the actions of IAM policy documents.
import { describe, expect, it } from 'vitest';
import {
  allowedActions,
  combinePolicies,
  compareActions,
  coveredBy,
} from '../../src/findings/policy-actions.ts';

const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('policy actions', () => {
  it('lists distinct Allow actions once (any case), ignoring Deny and counting NotAction statements', () => {
    const out = allowedActions([
      doc(
        { Effect: 'Allow', Action: ['s3:GetObject', 'S3:getobject', 'ec2:Describe*'], Resource: '*' },
        { Effect: 'Deny', Action: 'iam:*', Resource: '*' },
        { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' },
      ),
      doc({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }),
      'not json',
    ]);
    expect(out).toEqual({
      actions: ['s3:GetObject', 'ec2:Describe*', 'sqs:SendMessage'],
      notActionStatements: 1,
      unreadable: 1,
    });
  });

  it.each([
    ['s3:GetObject', ['s3:get*'], true],
    ['s3:GetObject', ['*'], true],
    ['s3:PutObject', ['s3:get*'], false],
    ['s3:GetObject', ['s3:getobjec?'], true],
    ['s3:GetObjectAcl', ['s3:getobject'], false],
  ])('%s is covered by %j: %s', (action, grants, expected) => {
    expect(coveredBy(action, grants)).toBe(expected);
  });

  it('says how many generated actions today’s policies already grant, with wildcards counted once', () => {
    const generated = [
      doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 'sqs:SendMessage'], Resource: '*' }),
    ];
    const current = [
      doc({ Effect: 'Allow', Action: ['s3:*', 'ec2:DescribeInstances', 'ec2:DescribeVpcs'], Resource: '*' }),
    ];
    expect(compareActions(generated, current)).toEqual({
      generated: 3,
      services: 2,
      current: 3,
      currentWildcards: ['s3:*'],
      kept: 2,
      notCovered: ['sqs:SendMessage'],
      notActionStatements: 0,
    });
  });

  it('merges documents into one without Sids', () => {
    const merged = JSON.parse(
      combinePolicies([
        doc({ Sid: 'A', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }),
        JSON.stringify({
          Version: '2012-10-17',
          Statement: { Sid: 'A', Effect: 'Allow', Action: 'sqs:*', Resource: '*' },
        }),
      ]),
    );
    expect(merged).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
        { Effect: 'Allow', Action: 'sqs:*', Resource: '*' },
      ],
    });
  });
});
