# access-patrol bot account (the Access Analyzer delegated administrator): the role the bot runs as,
# with the scan (read-only) and triage policies of deploy/iam.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

variable "role_name" {
  type    = string
  default = "access-patrol"
}

variable "trusted_service" {
  type        = string
  default     = "ecs-tasks.amazonaws.com"
  description = "Service that runs the bot (ecs-tasks.amazonaws.com, ec2.amazonaws.com, ...)."
}

variable "member_role_name" {
  type        = string
  default     = "AccessPatrolMember"
  description = "organization.memberRoleName in the bot config."
}

locals {
  iam_dir      = "${path.module}/../../iam"
  placeholders = { "{{MemberRoleName}}" = var.member_role_name }
  documents = {
    for name in ["bot-scan", "bot-triage"] :
    name => join("", [
      for part in regexall("\\{\\{\\w+\\}\\}|[^{]+|\\{", file("${local.iam_dir}/${name}.json")) :
      lookup(local.placeholders, part, part)
    ])
  }
}

resource "aws_iam_role" "bot" {
  name        = var.role_name
  description = "access-patrol: reads IAM Access Analyzer findings, triages them, assumes the member role."
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = var.trusted_service }, Action = "sts:AssumeRole" }]
  })
  tags = { "access-patrol:protect" = "true" }
}

resource "aws_iam_role_policy" "scan" {
  name   = "access-patrol-scan"
  role   = aws_iam_role.bot.id
  policy = local.documents["bot-scan"]
}

resource "aws_iam_role_policy" "triage" {
  name   = "access-patrol-triage"
  role   = aws_iam_role.bot.id
  policy = local.documents["bot-triage"]
}

output "bot_role_arn" {
  value = aws_iam_role.bot.arn
}
