// Builds the CloudFormation templates in deploy/cloudformation from the policy documents in
// deploy/iam, so the two never disagree: `npm run gen:iam` writes them, and a test fails when the
// committed templates are stale. Placeholders `{{Name}}` in the documents become template parameters
// (`{{AccountId}}` the stack's account).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const root = new URL('../', import.meta.url);
const POLICY_NAMES = [
  'bot-scan',
  'bot-triage',
  'member-trust',
  'member-read',
  'member-role-admin',
  'member-policy-generation',
  'service-role-trust',
  'service-role',
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export async function readPolicies(): Promise<Record<PolicyName, Json>> {
  const out = {} as Record<PolicyName, Json>;
  for (const name of POLICY_NAMES)
    out[name] = JSON.parse(await readFile(new URL(`deploy/iam/${name}.json`, root), 'utf8')) as Json;
  return out;
}

/** `{{X}}` → a CloudFormation `Fn::Sub` of `${X}` (`${AWS::AccountId}` for the account). */
function toCfn(doc: Json): Json {
  if (typeof doc === 'string') {
    if (!doc.includes('{{')) return doc;
    return {
      'Fn::Sub': doc.replace(/\{\{(\w+)\}\}/g, (_m, n: string) =>
        n === 'AccountId' ? `\${AWS::AccountId}` : `\${${n}}`,
      ),
    };
  }
  if (Array.isArray(doc)) return doc.map(toCfn);
  if (doc && typeof doc === 'object')
    return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, toCfn(v)]));
  return doc;
}

const ifCondition = (condition: string, value: Json): Json => ({
  'Fn::If': [condition, value, { Ref: 'AWS::NoValue' }],
});

/** The member-account stack (a StackSet across the organisation): the role the bot assumes, and the service role. */
export function memberTemplate(p: Record<PolicyName, Json>): Json {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      'access-patrol member account: the role the bot assumes (ExternalId), and the service role IAM Access Analyzer uses to read CloudTrail for policy generation. Deploy as a StackSet to every member account, in one region (IAM is global).',
    Parameters: {
      BotRoleArn: {
        Type: 'String',
        Description: 'ARN of the role the bot runs as (in its own account).',
        AllowedPattern: '^arn:aws[-a-z]*:iam::\\d{12}:role/.+$',
      },
      ExternalId: {
        Type: 'String',
        NoEcho: true,
        MinLength: 16,
        Description: 'organization.externalId in the bot config.',
      },
      MemberRoleName: {
        Type: 'String',
        Default: 'AccessPatrolMember',
        Description: 'organization.memberRoleName in the bot config.',
      },
      ServiceRoleName: {
        Type: 'String',
        Default: 'AccessAnalyzerMonitorServiceRole',
        Description:
          'Name of the policy-generation service role (path /service-role/): policyGeneration.accessRoleArn.',
      },
      TrailBucketName: {
        Type: 'String',
        Default: '',
        Description: 'S3 bucket of the CloudTrail trail policy generation reads; empty: no service role.',
      },
      EnableRoleDeletion: {
        Type: 'String',
        AllowedValues: ['true', 'false'],
        Default: 'true',
        Description: 'Delete role and Restore role from Slack.',
      },
      EnablePolicyGeneration: {
        Type: 'String',
        AllowedValues: ['true', 'false'],
        Default: 'true',
        Description: 'Generate policy from Slack.',
      },
    },
    Conditions: {
      RoleDeletion: { 'Fn::Equals': [{ Ref: 'EnableRoleDeletion' }, 'true'] },
      PolicyGeneration: { 'Fn::Equals': [{ Ref: 'EnablePolicyGeneration' }, 'true'] },
      ServiceRole: {
        'Fn::And': [
          { Condition: 'PolicyGeneration' },
          { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'TrailBucketName' }, ''] }] },
        ],
      },
    },
    Resources: {
      MemberRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: { Ref: 'MemberRoleName' },
          Description:
            'Assumed by access-patrol (with the ExternalId) to read tags, delete and restore unused roles, and generate policies.',
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: toCfn(p['member-trust']),
          Policies: [
            { PolicyName: 'access-patrol-read', PolicyDocument: toCfn(p['member-read']) },
            ifCondition('RoleDeletion', {
              PolicyName: 'access-patrol-role-admin',
              PolicyDocument: toCfn(p['member-role-admin']),
            }),
            ifCondition('PolicyGeneration', {
              PolicyName: 'access-patrol-policy-generation',
              PolicyDocument: toCfn(p['member-policy-generation']),
            }),
          ],
          Tags: [{ Key: 'access-patrol:protect', Value: 'true' }],
        },
      },
      PolicyGenerationServiceRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'ServiceRole',
        Properties: {
          RoleName: { Ref: 'ServiceRoleName' },
          Path: '/service-role/',
          Description:
            'Assumed by IAM Access Analyzer to read the CloudTrail trail when it generates a policy.',
          AssumeRolePolicyDocument: toCfn(p['service-role-trust']),
          Policies: [{ PolicyName: 'read-cloudtrail', PolicyDocument: toCfn(p['service-role']) }],
          Tags: [{ Key: 'access-patrol:protect', Value: 'true' }],
        },
      },
    },
    Outputs: {
      MemberRoleArn: { Value: { 'Fn::GetAtt': ['MemberRole', 'Arn'] } },
      ServiceRoleArn: {
        Condition: 'ServiceRole',
        Value: { 'Fn::GetAtt': ['PolicyGenerationServiceRole', 'Arn'] },
      },
    },
  };
}

/** The bot's own account: the role it runs as (an ECS task role by default) with the scan and triage policies. */
export function botTemplate(p: Record<PolicyName, Json>): Json {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      'access-patrol bot account (the Access Analyzer delegated administrator): the role the bot runs as, allowed to read findings, triage them and assume the member role.',
    Parameters: {
      RoleName: { Type: 'String', Default: 'access-patrol' },
      TrustedService: {
        Type: 'String',
        Default: 'ecs-tasks.amazonaws.com',
        Description: 'Service that runs the bot (ecs-tasks, ec2, ...).',
      },
      MemberRoleName: {
        Type: 'String',
        Default: 'AccessPatrolMember',
        Description: 'organization.memberRoleName in the bot config.',
      },
    },
    Resources: {
      BotRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: { Ref: 'RoleName' },
          Description:
            'access-patrol: reads IAM Access Analyzer findings, triages them, assumes the member role.',
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: { Ref: 'TrustedService' } },
                Action: 'sts:AssumeRole',
              },
            ],
          },
          Policies: [
            { PolicyName: 'access-patrol-scan', PolicyDocument: toCfn(p['bot-scan']) },
            { PolicyName: 'access-patrol-triage', PolicyDocument: toCfn(p['bot-triage']) },
          ],
          Tags: [{ Key: 'access-patrol:protect', Value: 'true' }],
        },
      },
    },
    Outputs: { BotRoleArn: { Value: { 'Fn::GetAtt': ['BotRole', 'Arn'] } } },
  };
}

export async function renderTemplates(): Promise<Record<string, string>> {
  const p = await readPolicies();
  const text = (t: Json) => `${JSON.stringify(t, null, 2)}\n`;
  return {
    'deploy/cloudformation/member-account.json': text(memberTemplate(p)),
    'deploy/cloudformation/bot-account.json': text(botTemplate(p)),
  };
}

if (fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [path, text] of Object.entries(await renderTemplates())) {
    await writeFile(new URL(path, root), text);
    process.stdout.write(`wrote ${path}\n`);
  }
}
