// Reading what an ARN says about a resource (for `owners <arn>`, where no finding is at hand).
import { accountOfArn } from './model.ts';

const TYPES: [RegExp, string][] = [
  [/^arn:[^:]+:s3:::[^/]+$/, 'AWS::S3::Bucket'],
  [/^arn:[^:]+:s3express:[^:]*:\d*:bucket\//, 'AWS::S3Express::DirectoryBucket'],
  [/^arn:[^:]+:iam::\d{12}:role\//, 'AWS::IAM::Role'],
  [/^arn:[^:]+:iam::\d{12}:user\//, 'AWS::IAM::User'],
  [/^arn:[^:]+:sqs:/, 'AWS::SQS::Queue'],
  [/^arn:[^:]+:lambda:[^:]+:\d{12}:function:[^:]+:\d+$/, 'AWS::Lambda::LayerVersion'],
  [/^arn:[^:]+:lambda:[^:]+:\d{12}:layer:/, 'AWS::Lambda::LayerVersion'],
  [/^arn:[^:]+:lambda:/, 'AWS::Lambda::Function'],
  [/^arn:[^:]+:kms:/, 'AWS::KMS::Key'],
  [/^arn:[^:]+:secretsmanager:/, 'AWS::SecretsManager::Secret'],
  [/^arn:[^:]+:elasticfilesystem:/, 'AWS::EFS::FileSystem'],
  [/^arn:[^:]+:ec2:[^:]*:\d*:snapshot\//, 'AWS::EC2::Snapshot'],
  [/^arn:[^:]+:ecr:/, 'AWS::ECR::Repository'],
  [/^arn:[^:]+:rds:[^:]+:\d{12}:snapshot:/, 'AWS::RDS::DBSnapshot'],
  [/^arn:[^:]+:rds:[^:]+:\d{12}:cluster-snapshot:/, 'AWS::RDS::DBClusterSnapshot'],
  [/^arn:[^:]+:sns:/, 'AWS::SNS::Topic'],
  [/^arn:[^:]+:dynamodb:[^:]+:\d{12}:table\/[^/]+\/stream\//, 'AWS::DynamoDB::Stream'],
  [/^arn:[^:]+:dynamodb:/, 'AWS::DynamoDB::Table'],
];

export interface ArnInfo {
  resourceArn: string;
  resourceType: string;
  accountId: string;
  region: string;
}

/** Parses an ARN, or returns a message saying what is wrong with it. */
export function parseResourceArn(
  arn: string,
  defaults: { accountId?: string; region?: string } = {},
): ArnInfo | string {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') {
    return `"${arn}" is not an ARN (expected arn:partition:service:region:account:resource)`;
  }
  const type = TYPES.find(([re]) => re.test(arn))?.[1];
  if (!type) return `cannot tell the resource type of "${arn}" (not one Access Analyzer reports on)`;
  const accountId = accountOfArn(arn) ?? defaults.accountId;
  if (!accountId) return `"${arn}" carries no account id; pass --account`;
  const region = parts[3] || defaults.region || 'us-east-1';
  return { resourceArn: arn, resourceType: type, accountId, region };
}
