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
  /** Where the account came from: the ARN, or the `--account` the person gave (S3 bucket ARNs carry none). */
  accountFrom: 'arn' | 'option';
  region: string;
}

export const ACCOUNT_ID = /^\d{12}$/;

/**
 * Parses an ARN, or returns a message saying what is wrong with it. `accountId` is the account the
 * person named (`--account`), for ARNs that carry none; `region` the one assumed for global ARNs.
 */
export function parseResourceArn(
  arn: string,
  given: { accountId?: string; region?: string } = {},
): ArnInfo | string {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') {
    return `"${arn}" is not an ARN (expected arn:partition:service:region:account:resource)`;
  }
  const type = TYPES.find(([re]) => re.test(arn))?.[1];
  if (!type) return `cannot tell the resource type of "${arn}" (not one Access Analyzer reports on)`;
  if (given.accountId !== undefined && !ACCOUNT_ID.test(given.accountId)) {
    return `--account must be a 12-digit AWS account id (got "${given.accountId}")`;
  }
  const inArn = accountOfArn(arn);
  if (inArn && given.accountId && given.accountId !== inArn) {
    return `"${arn}" names account ${inArn}, not ${given.accountId}: leave --account out for an ARN that carries its account`;
  }
  const accountId = inArn ?? given.accountId;
  if (!accountId) {
    const why = type === 'AWS::S3::Bucket' ? 'S3 bucket ARNs never carry one' : 'its ARN leaves it out';
    return `"${arn}" carries no account id (${why}): add --account <12-digit id>, the account that owns it, for the rules on accountId and the tag read`;
  }
  const region = parts[3] || given.region || 'us-east-1';
  return { resourceArn: arn, resourceType: type, accountId, accountFrom: inArn ? 'arn' : 'option', region };
}
