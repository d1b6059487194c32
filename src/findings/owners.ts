// "Who owns this resource?": the routing rules evaluated for an ARN, with every rule's verdict.
// Shared by `access-patrol owners` and `/access owners`.
import type { TagReader } from '../aws/types.ts';
import type { AppConfig } from '../config/schema.ts';
import { type ArnInfo, parseResourceArn } from './arn.ts';
import { explainRoute, formatRouteExplanation } from './routing.ts';

export async function explainOwners(
  arn: string,
  config: AppConfig,
  tags: TagReader,
  /** The account that owns the resource, for ARNs that carry none (S3 buckets): `--account`. */
  accountId?: string,
): Promise<{ ok: true; info: ArnInfo; text: string } | { ok: false; error: string }> {
  const info = parseResourceArn(arn, {
    region: config.regions[0],
    ...(accountId !== undefined && { accountId }),
  });
  if (typeof info === 'string') return { ok: false, error: info };
  const explained = await explainRoute(
    // Routing rules may match on finding type; an ARN alone implies the usual one for its type.
    { ...info, findingType: info.resourceType.startsWith('AWS::IAM::') ? 'UnusedIAMRole' : 'ExternalAccess' },
    {
      rules: config.routing,
      defaultChannel: config.slack.defaultChannel,
      tags: config.tags,
      getTags: () =>
        tags.getTags({
          arn: info.resourceArn,
          type: info.resourceType,
          accountId: info.accountId,
          region: info.region,
        }),
    },
  );
  return {
    ok: true,
    info,
    text: `${arn} (${info.resourceType}, account ${info.accountId}${info.accountFrom === 'option' ? ' from --account' : ''}, ${info.region})\n${formatRouteExplanation(explained)}`,
  };
}
