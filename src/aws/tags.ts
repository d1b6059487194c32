// Resource tags for routing: IAM roles and users through IAM, other resources through the
// Resource Groups Tagging API (when enabled). Reads in member accounts use the assumed member role.
import { GetRoleCommand, paginateListUserTags } from '@aws-sdk/client-iam';
import {
  GetResourcesCommand,
  type GetResourcesCommandOutput,
} from '@aws-sdk/client-resource-groups-tagging-api';
import type { AppConfig } from '../config/schema.ts';
import type { AwsClients } from './clients.ts';
import { AwsError } from './errors.ts';
import { call, collect, unlessNotFound } from './paging.ts';
import type { TagReader } from './types.ts';

type Tag = { Key?: string | undefined; Value?: string | undefined };

/** GetResources takes at most 100 ARNs (`ResourceARNList`, ResourceARNListForGet in the API model). */
export const GET_RESOURCES_MAX_ARNS = 100;

export interface TagReaderOptions {
  /**
   * How long a GetResources batch waits for more ARNs of its account and region before it is sent
   * (it is sent at once when it holds 100). Default 20 ms.
   */
  lingerMs?: number;
  /**
   * The longest a held read's batch (`scope.held`) waits for its caller's `flush()`, a safety net
   * for a caller that never flushes. Default 1,000 ms.
   */
  heldMaxMs?: number;
  /** Scans whose tag reads are remembered (the newest ones); default 4. */
  scansRemembered?: number;
  /**
   * A scan's reads are forgotten once it has made none for this long (a scan finalized in another
   * process never says it ended here). Default 15 minutes.
   */
  idleForgetMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

type Resource = Parameters<TagReader['getTags']>[0];
type Tags = Record<string, string> | null;

interface ScanReads {
  /** `account|region` (or `iam`) -> resource ARN -> its read in flight, or its answer. */
  entries: Map<string, Map<string, Promise<Tags> | Tags>>;
  /** One frozen object per distinct set of tags (by their JSON). */
  shared: Map<string, Readonly<Record<string, string>>>;
  /** When the scan last read tags (ms). */
  usedAt: number;
}

/** The scan's one frozen object with exactly these tags (in this order). */
function share(shared: ScanReads['shared'], tags: Tags): Tags {
  if (tags === null) return null;
  const id = JSON.stringify(tags);
  let one = shared.get(id);
  if (!one) {
    one = Object.freeze(tags);
    shared.set(id, one);
  }
  return one as Record<string, string>;
}

interface Waiter {
  resolve(tags: Tags): void;
  reject(err: unknown): void;
}

interface Batch {
  region: string;
  accountId: string;
  waiters: Map<string, Waiter[]>;
  timer?: ReturnType<typeof setTimeout>;
  /** Every read in it is held for a flush (a read that is not shortens the wait to the linger). */
  held: boolean;
}

export function createTagReader(
  clients: Pick<AwsClients, 'iam' | 'tagging'>,
  cfg: Pick<AppConfig['tags'], 'useResourceGroupsTaggingApi'>,
  opts: TagReaderOptions = {},
): TagReader {
  const lingerMs = opts.lingerMs ?? 20;
  const heldMaxMs = opts.heldMaxMs ?? 1000;
  const remembered = Math.max(1, opts.scansRemembered ?? 4);
  const idleForgetMs = opts.idleForgetMs ?? 15 * 60_000;
  const now = opts.now ?? Date.now;
  // Per scan: one read per resource (an IAM principal, a bucket) however many findings name it. A
  // read in flight is its promise; an answer is kept as the tags themselves, one frozen object per
  // distinct set of tags (most resources of an organisation share a few), so a scan of 100,000
  // resources holds 100,000 keys and a few objects rather than 100,000 promises and records.
  const scans = new Map<string, ScanReads>();
  const batches = new Map<string, Batch>();

  const readIam = async (resource: Resource): Promise<Tags> => {
    const iam = clients.iam(resource.accountId);
    if (resource.type === 'AWS::IAM::Role') {
      const out = await read('IAM.GetRole', () =>
        iam.send(new GetRoleCommand({ RoleName: iamNameOf(resource.arn) })),
      );
      return out === null ? null : toRecord(out.Role?.Tags);
    }
    const tags = await unlessNotFound(
      collect({
        operation: 'IAM.ListUserTags',
        paginate: () => paginateListUserTags({ client: iam }, { UserName: iamNameOf(resource.arn) }),
        items: (out) => out.Tags,
      }),
    );
    return tags === null ? null : toRecord(tags);
  };

  /** One GetResources for up to 100 ARNs; an ARN AWS does not list has no tags. */
  const send = async (batch: Batch, arns: string[]): Promise<void> => {
    const tagging = clients.tagging(batch.region, batch.accountId);
    let out: GetResourcesCommandOutput | null;
    try {
      out = await read('ResourceGroupsTaggingAPI.GetResources', () =>
        tagging.send(new GetResourcesCommand({ ResourceARNList: arns })),
      );
    } catch (err) {
      // One ARN AWS refuses (malformed, too long) fails the whole call: halve the batch until the
      // refused ARN fails alone and every other ARN gets its tags.
      if (err instanceof AwsError && err.kind === 'invalid' && arns.length > 1) {
        const half = Math.ceil(arns.length / 2);
        await Promise.all([send(batch, arns.slice(0, half)), send(batch, arns.slice(half))]);
        return;
      }
      for (const arn of arns) for (const w of batch.waiters.get(arn) ?? []) w.reject(err);
      return;
    }
    const byArn = new Map<string, Tag[] | undefined>();
    for (const m of out?.ResourceTagMappingList ?? []) if (m.ResourceARN) byArn.set(m.ResourceARN, m.Tags);
    // The API lists only resources that have (or had) tags, so an absent mapping means no tags.
    for (const arn of arns)
      for (const w of batch.waiters.get(arn) ?? []) w.resolve(out === null ? null : toRecord(byArn.get(arn)));
  };

  const flush = (key: string) => {
    const batch = batches.get(key);
    if (!batch) return;
    batches.delete(key);
    if (batch.timer) clearTimeout(batch.timer);
    void send(batch, [...batch.waiters.keys()]);
  };

  const readTagging = (resource: Resource, held: boolean): Promise<Tags> =>
    new Promise<Tags>((resolve, reject) => {
      const key = `${resource.region}|${resource.accountId}`;
      let batch = batches.get(key);
      if (!batch) {
        batch = { region: resource.region, accountId: resource.accountId, waiters: new Map(), held };
        batches.set(key, batch);
        batch.timer = setTimeout(() => flush(key), held ? heldMaxMs : lingerMs);
      } else if (batch.held && !held) {
        // Someone waits for this read without flushing: the batch goes after the short linger.
        batch.held = false;
        clearTimeout(batch.timer);
        batch.timer = setTimeout(() => flush(key), lingerMs);
      }
      const waiters = batch.waiters.get(resource.arn) ?? [];
      waiters.push({ resolve, reject });
      batch.waiters.set(resource.arn, waiters);
      if (batch.waiters.size >= GET_RESOURCES_MAX_ARNS) flush(key);
    });

  const readOnce = (resource: Resource, held = false): Promise<Tags> => {
    if (resource.type === 'AWS::IAM::Role' || resource.type === 'AWS::IAM::User') return readIam(resource);
    if (!cfg.useResourceGroupsTaggingApi) return Promise.resolve(null);
    return readTagging(resource, held);
  };

  return {
    flush() {
      for (const key of [...batches.keys()]) flush(key);
    },
    endScan(scanId) {
      scans.delete(scanId);
    },
    getTags(resource, scope) {
      if (!scope?.scanId) return readOnce(resource);
      const at = now();
      let reads = scans.get(scope.scanId);
      if (!reads) {
        for (const [id, old] of scans) if (at - old.usedAt > idleForgetMs) scans.delete(id);
        reads = { entries: new Map(), shared: new Map(), usedAt: at };
        scans.set(scope.scanId, reads);
        for (const old of scans.keys()) if (scans.size > remembered) scans.delete(old);
      }
      reads.usedAt = at;
      // By account and region, then ARN (the finding's own string, not a new one per read); IAM
      // names are global, and an IAM ARN holds its account.
      const where = resource.type.startsWith('AWS::IAM::')
        ? 'iam'
        : `${resource.accountId}|${resource.region}`;
      let entries = reads.entries.get(where);
      if (!entries) {
        entries = new Map();
        reads.entries.set(where, entries);
      }
      const key = resource.arn;
      const hit = entries.get(key);
      if (hit !== undefined) return hit instanceof Promise ? hit : Promise.resolve(hit);
      const shared = reads.shared;
      const entry = readOnce(resource, scope.held === true).then((tags) => {
        const kept = share(shared, tags);
        if (entries.get(key) === entry) entries.set(key, kept);
        return kept;
      });
      entries.set(key, entry);
      // A failed read is not remembered: the job's retry reads again.
      entry.catch(() => {
        if (entries.get(key) === entry) entries.delete(key);
      });
      return entry;
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
