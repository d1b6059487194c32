// What the policy tools take and answer, and the resource types AWS accepts for them.

export type PolicyType =
  | 'IDENTITY_POLICY'
  | 'RESOURCE_POLICY'
  | 'SERVICE_CONTROL_POLICY'
  | 'RESOURCE_CONTROL_POLICY';

/** CheckNoPublicAccess `resourceType` values (AccessCheckResourceType). */
export const PUBLIC_ACCESS_RESOURCE_TYPES = [
  'AWS::S3::Bucket',
  'AWS::S3::AccessPoint',
  'AWS::S3::Glacier',
  'AWS::S3Express::DirectoryBucket',
  'AWS::S3Express::AccessPoint',
  'AWS::S3Outposts::Bucket',
  'AWS::S3Outposts::AccessPoint',
  'AWS::S3Tables::Table',
  'AWS::S3Tables::TableBucket',
  'AWS::KMS::Key',
  'AWS::SecretsManager::Secret',
  'AWS::SNS::Topic',
  'AWS::SQS::Queue',
  'AWS::Lambda::Function',
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::Stream',
  'AWS::EFS::FileSystem',
  'AWS::OpenSearchService::Domain',
  'AWS::Kinesis::Stream',
  'AWS::Kinesis::StreamConsumer',
  'AWS::IAM::AssumeRolePolicyDocument',
  'AWS::ApiGateway::RestApi',
  'AWS::CodeArtifact::Domain',
  'AWS::Backup::BackupVault',
  'AWS::CloudTrail::Dashboard',
  'AWS::CloudTrail::EventDataStore',
] as const;
export type PublicAccessResourceType = (typeof PUBLIC_ACCESS_RESOURCE_TYPES)[number];

/** ValidatePolicy `validatePolicyResourceType` values: resource-specific checks of a resource policy. */
export const VALIDATE_RESOURCE_TYPES = [
  'AWS::S3::Bucket',
  'AWS::S3::AccessPoint',
  'AWS::S3::MultiRegionAccessPoint',
  'AWS::S3ObjectLambda::AccessPoint',
  'AWS::IAM::AssumeRolePolicyDocument',
  'AWS::DynamoDB::Table',
] as const;

export interface TrailSpec {
  cloudTrailArn: string;
  /** Regions of the trail to read; absent with `allRegions: true` for every region. */
  regions?: string[];
  allRegions?: boolean;
}

export interface StartGenerationInput {
  accountId: string;
  region: string;
  principalArn: string;
  trails: TrailSpec[];
  /** The service role Access Analyzer assumes to read the trail. */
  accessRoleArn: string;
  startTime: Date;
  endTime?: Date;
  /** Makes a retried start the same request. */
  clientToken: string;
}

export type GenerationStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';

export interface GeneratedPolicyResult {
  status: GenerationStatus;
  startedOn?: Date;
  completedOn?: Date;
  /** jobError of a FAILED generation, e.g. AUTHORIZATION_ERROR. */
  error?: { code: string; message: string };
  /** False when CloudTrail did not cover the whole requested range (or some regions). */
  isComplete?: boolean;
  /** The generated policy documents (JSON text); more than one when a single one would be too large. */
  policies: string[];
}

export interface PolicyFinding {
  findingType: 'ERROR' | 'SECURITY_WARNING' | 'WARNING' | 'SUGGESTION';
  issueCode: string;
  details: string;
  learnMoreLink: string;
  /** How many places in the document it was found at. */
  locations: number;
}

export interface CheckResult {
  result: 'PASS' | 'FAIL';
  message: string;
  reasons: { description: string; statementIndex?: number; statementId?: string }[];
}

export interface PrincipalPolicies {
  principalArn: string;
  kind: 'role' | 'user';
  /**
   * Managed policies with their default version's document; `error` when it could not be read.
   * `via` names the group a user holds it through.
   */
  attached: { arn: string; name: string; document?: string; error?: string; via?: string }[];
  inline: { name: string; document: string; via?: string }[];
}

export interface PolicyGateway {
  /** StartPolicyGeneration; returns the AWS job id. Conflict (one at a time) and quota are AwsErrors. */
  startGeneration(input: StartGenerationInput): Promise<string>;
  getGeneratedPolicy(accountId: string, region: string, jobId: string): Promise<GeneratedPolicyResult>;
  cancelGeneration(accountId: string, region: string, jobId: string): Promise<void>;
  /** Every page of ValidatePolicy findings. */
  validatePolicy(input: {
    accountId?: string;
    region: string;
    document: string;
    policyType: PolicyType;
    validatePolicyResourceType?: string;
  }): Promise<PolicyFinding[]>;
  checkNoNewAccess(input: {
    accountId?: string;
    region: string;
    newDocument: string;
    existingDocument: string;
    policyType: 'IDENTITY_POLICY' | 'RESOURCE_POLICY';
  }): Promise<CheckResult>;
  checkNoPublicAccess(input: {
    accountId?: string;
    region: string;
    document: string;
    resourceType: PublicAccessResourceType;
  }): Promise<CheckResult>;
  /** What a role or user holds today; null when it no longer exists. */
  principalPolicies(principalArn: string): Promise<PrincipalPolicies | null>;
}
