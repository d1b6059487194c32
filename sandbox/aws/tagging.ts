// The Resource Groups Tagging API (JSON 1.1, `X-Amz-Target: ResourceGroupsTaggingAPI_20170126.<Op>`):
// GetResources by ARN list or by tag filters, over the resources of the region (and account).
import type { ServerResponse } from 'node:http';
import type { SandboxData, SandboxResource } from '../types.ts';
import { AwsFault, asFault, type Ctx, parseJsonBody, type RecordRequest, sendJson } from './wire.ts';

const TAGGING_PREFIX = 'ResourceGroupsTaggingAPI_20170126.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

export function createTagging(data: SandboxData, record: RecordRequest) {
  const resourceOf = (arn: string): SandboxResource | undefined =>
    data.resources[arn] ?? data.lookupResource?.(arn);

  const visible = (r: SandboxResource, ctx: Ctx) =>
    (r.region === undefined || r.region === ctx.region) &&
    (!data.strictAccounts || r.account === ctx.account);

  const getResources = (ctx: Ctx, body: Record<string, unknown>) => {
    const mappings: { ResourceARN: string; Tags: { Key: string; Value: string }[] }[] = [];
    const toTags = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
    if (Array.isArray(body.ResourceARNList)) {
      // The API model: ResourceARNListForGet holds 1 to 100 ARNs of 1 to 1011 characters; the list
      // cannot be combined with filters or pagination. An ARN that does not exist is not an error:
      // it is just not listed.
      const invalid = (message: string) => new AwsFault(400, 'InvalidParameterException', message);
      if (body.ResourceARNList.length > 100) throw invalid('ResourceARNList can hold at most 100 ARNs');
      if (body.ResourceARNList.length === 0) throw invalid('ResourceARNList must hold at least 1 ARN');
      for (const p of [
        'TagFilters',
        'ResourceTypeFilters',
        'PaginationToken',
        'ResourcesPerPage',
        'TagsPerPage',
      ])
        if (body[p] !== undefined && body[p] !== '')
          throw invalid(`ResourceARNList cannot be used with ${p}`);
      for (const arn of body.ResourceARNList) {
        const a = String(arn);
        if (a.length > 1011 || !/^arn:[\w-]+:[\w-]+:[\w-]*:\d{0,12}:.+/.test(a))
          throw invalid(`${a.slice(0, 100)} is not a valid ARN`);
      }
      for (const arn of body.ResourceARNList) {
        const r = resourceOf(String(arn));
        if (r && visible(r, ctx)) mappings.push({ ResourceARN: String(arn), Tags: toTags(r.tags) });
      }
    } else {
      const filters = Array.isArray(body.TagFilters)
        ? (body.TagFilters as { Key?: string; Values?: string[] }[])
        : [];
      for (const [arn, r] of Object.entries(data.resources)) {
        if (!visible(r, ctx)) continue;
        const ok = filters.every(
          (f) =>
            f.Key !== undefined &&
            f.Key in r.tags &&
            (!f.Values?.length || f.Values.includes(r.tags[f.Key]!)),
        );
        if (ok) mappings.push({ ResourceARN: arn, Tags: toTags(r.tags) });
      }
    }
    return { PaginationToken: '', ResourceTagMappingList: mappings };
  };

  return {
    handle(res: ServerResponse, ctx: Ctx, target: string, raw: string): void {
      const operation = target.startsWith(TAGGING_PREFIX) ? target.slice(TAGGING_PREFIX.length) : target;
      const entry = record('tagging', operation, ctx);
      try {
        if (operation !== 'GetResources') {
          throw new AwsFault(400, 'UnknownOperationException', `The sandbox does not implement ${target}`);
        }
        const out = getResources(ctx, parseJsonBody(raw));
        entry.status = 200;
        sendJson(res, 200, out, CONTENT_TYPE);
      } catch (err) {
        const f = asFault(err);
        entry.status = f.status;
        sendJson(res, f.status, { __type: f.code, Message: f.message }, CONTENT_TYPE, {
          'x-amzn-ErrorType': f.code,
        });
      }
    },
  };
}
