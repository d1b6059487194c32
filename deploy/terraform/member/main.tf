# access-patrol member account: the role the bot assumes (with the ExternalId) and, when a trail
# bucket is given, the service role IAM Access Analyzer uses to read CloudTrail for policy generation.
# The policy documents are the ones in deploy/iam (the CloudFormation templates use the same files).
# Apply once per member account (a provider per account, or a for_each over aliased providers).

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

variable "bot_role_arn" {
  type        = string
  description = "ARN of the role the bot runs as, in its own account."
}

variable "external_id" {
  type        = string
  sensitive   = true
  description = "organization.externalId in the bot config."
  validation {
    condition     = length(var.external_id) >= 16
    error_message = "Use an ExternalId of at least 16 characters."
  }
}

variable "member_role_name" {
  type        = string
  default     = "AccessPatrolMember"
  description = "organization.memberRoleName in the bot config."
}

variable "service_role_name" {
  type        = string
  default     = "AccessAnalyzerMonitorServiceRole"
  description = "Policy-generation service role (path /service-role/): policyGeneration.accessRoleArn."
}

variable "trail_bucket_name" {
  type        = string
  default     = ""
  description = "S3 bucket of the CloudTrail trail policy generation reads; empty: no service role."
}

variable "enable_role_deletion" {
  type    = bool
  default = true
}

variable "enable_policy_generation" {
  type    = bool
  default = true
}

data "aws_caller_identity" "current" {}

locals {
  iam_dir = "${path.module}/../../iam"
  placeholders = {
    "{{AccountId}}"       = data.aws_caller_identity.current.account_id
    "{{BotRoleArn}}"      = var.bot_role_arn
    "{{ExternalId}}"      = var.external_id
    "{{MemberRoleName}}"  = var.member_role_name
    "{{ServiceRoleName}}" = var.service_role_name
    "{{TrailBucketName}}" = var.trail_bucket_name
  }
  # Each document with its {{Name}} placeholders filled in.
  documents = {
    for name in ["member-trust", "member-read", "member-role-admin", "member-policy-generation", "service-role-trust", "service-role"] :
    name => join("", [
      for part in regexall("\\{\\{\\w+\\}\\}|[^{]+|\\{", file("${local.iam_dir}/${name}.json")) :
      lookup(local.placeholders, part, part)
    ])
  }
  create_service_role = var.enable_policy_generation && var.trail_bucket_name != ""
}

resource "aws_iam_role" "member" {
  name                 = var.member_role_name
  description          = "Assumed by access-patrol (with the ExternalId) to read tags, delete and restore unused roles, and generate policies."
  assume_role_policy   = local.documents["member-trust"]
  max_session_duration = 3600
  tags                 = { "access-patrol:protect" = "true" }
}

resource "aws_iam_role_policy" "read" {
  name   = "access-patrol-read"
  role   = aws_iam_role.member.id
  policy = local.documents["member-read"]
}

resource "aws_iam_role_policy" "role_admin" {
  count  = var.enable_role_deletion ? 1 : 0
  name   = "access-patrol-role-admin"
  role   = aws_iam_role.member.id
  policy = local.documents["member-role-admin"]
}

resource "aws_iam_role_policy" "policy_generation" {
  count  = var.enable_policy_generation ? 1 : 0
  name   = "access-patrol-policy-generation"
  role   = aws_iam_role.member.id
  policy = local.documents["member-policy-generation"]
}

resource "aws_iam_role" "policy_generation_service" {
  count              = local.create_service_role ? 1 : 0
  name               = var.service_role_name
  path               = "/service-role/"
  description        = "Assumed by IAM Access Analyzer to read the CloudTrail trail when it generates a policy."
  assume_role_policy = local.documents["service-role-trust"]
  tags               = { "access-patrol:protect" = "true" }
}

resource "aws_iam_role_policy" "policy_generation_service" {
  count  = local.create_service_role ? 1 : 0
  name   = "read-cloudtrail"
  role   = aws_iam_role.policy_generation_service[0].id
  policy = local.documents["service-role"]
}

output "member_role_arn" {
  value = aws_iam_role.member.arn
}

output "service_role_arn" {
  value = local.create_service_role ? aws_iam_role.policy_generation_service[0].arn : null
}
