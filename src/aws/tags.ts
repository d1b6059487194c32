// Resource tags for routing: IAM roles and users through IAM, other resources through the
// Resource Groups Tagging API (when enabled). Reads in member accounts use the assumed member role.
import { GetRoleCommand, paginateListUserTags } from '@aws-sdk/client-iam';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import type { AppConfig } from '../config/schema.ts';
import type { AwsClients } from './clients.ts';
import { call, collect, unlessNotFound } from './paging.ts';
import type { TagReader } from './types.ts';

type Tag = { Key?: string | undefined; Value?: string | undefined };

export function createTagReader(
  clients: Pick<AwsClients, 'iam' | 'tagging'>,
  cfg: Pick<AppConfig['tags'], 'useResourceGroupsTaggingApi'>,
): TagReader {
  return {
    async getTags(resource) {
      switch (resource.type) {
        case 'AWS::IAM::Role': {
          const iam = clients.iam(resource.accountId);
          const out = await read('IAM.GetRole', () =>
            iam.send(new GetRoleCommand({ RoleName: iamNameOf(resource.arn) })),
          );
          return out === null ? null : toRecord(out.Role?.Tags);
        }
        case 'AWS::IAM::User': {
          const iam = clients.iam(resource.accountId);
          const tags = await unlessNotFound(
            collect({
              operation: 'IAM.ListUserTags',
              paginate: () => paginateListUserTags({ client: iam }, { UserName: iamNameOf(resource.arn) }),
              items: (out) => out.Tags,
            }),
          );
          return tags === null ? null : toRecord(tags);
        }
        default: {
          if (!cfg.useResourceGroupsTaggingApi) return null;
          const tagging = clients.tagging(resource.region, resource.accountId);
          const out = await read('ResourceGroupsTaggingAPI.GetResources', () =>
            tagging.send(new GetResourcesCommand({ ResourceARNList: [resource.arn] })),
          );
          if (out === null) return null;
          // The API lists only resources that have (or had) tags, so an absent mapping means no tags.
          const mapping = out.ResourceTagMappingList?.find((m) => m.ResourceARN === resource.arn);
          return toRecord(mapping?.Tags);
        }
      }
    },
  };
}

/** `arn:aws:iam::123456789012:role/path/to/name` → `name` (IAM names never contain `/`). */
export function iamNameOf(arn: string): string {
  const resource = arn.split(':').slice(5).join(':');
  return resource.slice(resource.lastIndexOf('/') + 1);
}

/** Runs one call; a vanished entity is null, every other failure an AwsError. */
function read<T>(operation: string, run: () => Promise<T>): Promise<T | null> {
  return unlessNotFound(call(operation, run));
}

function toRecord(tags: Tag[] | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) record[t.Key] = t.Value ?? '';
  return record;
}
