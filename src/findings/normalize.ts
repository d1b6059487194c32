// Access Analyzer V2 wire shapes (as the SDK returns them) → the domain model. Pure; no I/O.
import type {
  FindingDetails as AwsFindingDetails,
  ExternalAccessDetails,
  FindingSource,
  FindingSummaryV2,
  GetFindingV2Response,
  InternalAccessDetails,
} from '@aws-sdk/client-accessanalyzer';
import {
  type AccessGrant,
  type AnalyzerKind,
  FINDING_STATUSES,
  FINDING_TYPES,
  type Finding,
  type FindingDetails,
  type FindingStatus,
  type FindingSummary,
  type FindingType,
  type UnusedService,
} from './model.ts';

/** The analyzer a finding was read from. `kind` lets a summary without `findingType` be typed. */
export interface AnalyzerRef {
  arn: string;
  region: string;
  kind?: AnalyzerKind;
  /** Set for a service-linked analyzer: its findings are read-only. */
  managedBy?: string;
}

/** One GetFindingV2 page (a command output is one too; `$metadata` is ignored). */
export type FindingV2Page = GetFindingV2Response;

export function normalizeSummary(s: FindingSummaryV2, analyzer: AnalyzerRef): FindingSummary {
  return common(s, analyzer, findingTypeOf(s.findingType, undefined, analyzer, s.id));
}

/**
 * A finding from GetFindingV2: either one response, or every page of it in order (the first page
 * carries the finding's fields; later pages only add `findingDetails`).
 */
export function normalizeFinding(
  out: FindingV2Page | readonly FindingV2Page[],
  analyzer: AnalyzerRef,
): Finding {
  const pages = Array.isArray(out) ? (out as readonly FindingV2Page[]) : [out as FindingV2Page];
  const first = pages[0];
  if (!first) throw new Error('normalizeFinding: no GetFindingV2 page');
  const details = pages.flatMap((p) => p.findingDetails ?? []);
  const findingType = findingTypeOf(first.findingType, details, analyzer, first.id);
  return { ...common(first, analyzer, findingType), details: detailsOf(findingType, details) };
}

type CommonFields = Pick<
  FindingSummaryV2,
  | 'id'
  | 'resource'
  | 'resourceType'
  | 'resourceOwnerAccount'
  | 'status'
  | 'createdAt'
  | 'updatedAt'
  | 'analyzedAt'
  | 'error'
>;

function common(s: CommonFields, analyzer: AnalyzerRef, findingType: FindingType): FindingSummary {
  const id = required(s.id, 'id', s.id);
  const summary: FindingSummary = {
    id,
    analyzerArn: analyzer.arn,
    region: analyzer.region,
    accountId: required(s.resourceOwnerAccount, 'resourceOwnerAccount', id),
    // Every V2 finding names its resource; '' only guards against a malformed response.
    resourceArn: s.resource ?? '',
    resourceType: required(s.resourceType, 'resourceType', id),
    findingType,
    status: statusOf(s.status, id),
    createdAt: required(iso(s.createdAt), 'createdAt', id),
    updatedAt: required(iso(s.updatedAt), 'updatedAt', id),
  };
  const analyzedAt = iso(s.analyzedAt);
  if (analyzedAt !== undefined) summary.analyzedAt = analyzedAt;
  if (s.error) summary.error = s.error;
  if (analyzer.managedBy) summary.managedBy = analyzer.managedBy;
  return summary;
}

function findingTypeOf(
  wire: string | undefined,
  details: readonly AwsFindingDetails[] | undefined,
  analyzer: AnalyzerRef,
  id: string | undefined,
): FindingType {
  if (wire !== undefined) {
    if ((FINDING_TYPES as readonly string[]).includes(wire)) return wire as FindingType;
    throw new Error(`finding ${id}: unsupported finding type ${wire}`);
  }
  const fromDetails = details?.map(typeOfDetail).find((t) => t !== undefined);
  if (fromDetails) return fromDetails;
  // External analyzers may omit findingType; internal ones are typed by their analyzer kind too.
  if (analyzer.kind === 'internal') return 'InternalAccess';
  if (analyzer.kind === 'unused') {
    throw new Error(`finding ${id}: unused-access finding without findingType`);
  }
  return 'ExternalAccess';
}

function typeOfDetail(d: AwsFindingDetails): FindingType | undefined {
  if (d.externalAccessDetails) return 'ExternalAccess';
  if (d.internalAccessDetails) return 'InternalAccess';
  if (d.unusedIamRoleDetails) return 'UnusedIAMRole';
  if (d.unusedIamUserAccessKeyDetails) return 'UnusedIAMUserAccessKey';
  if (d.unusedIamUserPasswordDetails) return 'UnusedIAMUserPassword';
  if (d.unusedPermissionDetails) return 'UnusedPermission';
  return undefined;
}

function detailsOf(type: FindingType, details: readonly AwsFindingDetails[]): FindingDetails {
  switch (type) {
    case 'ExternalAccess': {
      const ext = details.flatMap((d) => (d.externalAccessDetails ? [d.externalAccessDetails] : []));
      return {
        kind: 'externalAccess',
        isPublic: ext.some((d) => d.isPublic === true),
        grants: ext.map(grantOf),
      };
    }
    case 'InternalAccess': {
      const int = details.flatMap((d) => (d.internalAccessDetails ? [d.internalAccessDetails] : []));
      return { kind: 'internalAccess', grants: int.map(grantOf) };
    }
    case 'UnusedIAMRole': {
      const d = details.find((x) => x.unusedIamRoleDetails)?.unusedIamRoleDetails;
      return withLastAccessed({ kind: 'unusedRole' }, d?.lastAccessed);
    }
    case 'UnusedIAMUserAccessKey': {
      const d = details.find((x) => x.unusedIamUserAccessKeyDetails)?.unusedIamUserAccessKeyDetails;
      // accessKeyId is required on the wire; '' only for an error finding that carries no details.
      return withLastAccessed(
        { kind: 'unusedAccessKey', accessKeyId: d?.accessKeyId ?? '' },
        d?.lastAccessed,
      );
    }
    case 'UnusedIAMUserPassword': {
      const d = details.find((x) => x.unusedIamUserPasswordDetails)?.unusedIamUserPasswordDetails;
      return withLastAccessed({ kind: 'unusedPassword' }, d?.lastAccessed);
    }
    case 'UnusedPermission': {
      const services = details.flatMap((d): UnusedService[] => {
        const u = d.unusedPermissionDetails;
        if (!u) return [];
        const service: UnusedService = {
          serviceNamespace: u.serviceNamespace ?? '',
          actions: (u.actions ?? []).map((a) => withLastAccessed({ action: a.action ?? '' }, a.lastAccessed)),
        };
        return [withLastAccessed(service, u.lastAccessed)];
      });
      return { kind: 'unusedPermission', services };
    }
  }
}

function grantOf(d: ExternalAccessDetails | InternalAccessDetails): AccessGrant {
  const grant: AccessGrant = {
    principal: { ...(d.principal ?? {}) },
    actions: [...(d.action ?? [])],
    conditions: { ...(d.condition ?? {}) },
    sources: sourcesOf(d.sources),
  };
  if ('principalOwnerAccount' in d && d.principalOwnerAccount) {
    grant.principalOwnerAccount = d.principalOwnerAccount;
  }
  if ('accessType' in d && d.accessType) grant.accessType = d.accessType;
  if ('principalType' in d && d.principalType) grant.principalType = d.principalType;
  return grant;
}

function sourcesOf(sources: FindingSource[] | undefined): string[] {
  return (sources ?? []).flatMap((s) => (s.type ? [s.type] : []));
}

function withLastAccessed<T extends object>(
  value: T,
  lastAccessed: Date | string | undefined,
): T & { lastAccessed?: string } {
  const at = iso(lastAccessed);
  return at === undefined ? value : { ...value, lastAccessed: at };
}

function statusOf(status: string | undefined, id: string): FindingStatus {
  if (status && (FINDING_STATUSES as readonly string[]).includes(status)) {
    return status as FindingStatus;
  }
  throw new Error(`finding ${id}: unsupported status ${status}`);
}

/** The SDK parses timestamps to Date; tolerate an ISO string for hand-built shapes. */
function iso(d: Date | string | undefined): string | undefined {
  if (d === undefined || d === null) return undefined;
  const date = typeof d === 'string' ? new Date(d) : d;
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function required<T>(value: T | undefined, field: string, id: string | undefined): T {
  if (value === undefined || value === null) {
    throw new Error(`finding ${id ?? '?'}: response without ${field}`);
  }
  return value;
}
