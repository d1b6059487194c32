// Which analyzers cover what, as IAM Access Analyzer works: external and internal access are
// analysed per region; unused access once per zone of trust (the account, or the organisation), in
// any one region (its findings do not change with the region, and it is billed per analyzer).
// Pure: ListAnalyzers results in, what is missing, duplicated and to be scanned out.
import { type AnalyzerInfo, type AnalyzerKind, accountOfArn } from './model.ts';

/** The zone of trust an analyzer covers, as far as the bot can tell from what it lists. */
export type Zone =
  | {
      kind: 'organization' /** The account that administers its analyzers (the one the bot lists in). */;
      adminAccount?: string;
    }
  | {
      kind: 'account' /** Absent when the bot sees no analyzer at all: the account of its credentials. */;
      accountId?: string;
    };

export interface RegionListing {
  region: string;
  analyzers: AnalyzerInfo[];
}

export interface CoverageInput {
  /** Regions whose ListAnalyzers answered, in config order. */
  listings: RegionListing[];
  /** Every configured region was listed (no `scan --region` subset, no region denied). */
  complete: boolean;
  /** `scan.expectedAnalyzerKinds`. */
  expected: readonly AnalyzerKind[];
  /** `regions` in the config. */
  configuredRegions: readonly string[];
}

/** A regional analyzer kind missing in one region, and the type to create. */
export interface MissingAnalyzer {
  kind: 'external' | 'internal';
  type: string;
  /** The organisation's one organisation-level internal access analyzer, when it is elsewhere. */
  orgInternalElsewhere?: AnalyzerInfo;
}

export interface UnusedCoverage {
  /** The zone of trust of the analyzers the bot lists. */
  zone: Zone;
  /** `ok`: a customer-managed analyzer covers it; `service-linked`: only a service-linked one does. */
  state: 'ok' | 'missing' | 'service-linked';
  /** For `missing`: what to create, and where. */
  create?: { type: string; region: string };
  /** For `service-linked`: the analyzer whose findings the bot reads (read-only). */
  serviceLinked?: AnalyzerInfo;
  /** A service-linked analyzer that covers only part of a zone that is otherwise missing. */
  partialServiceLinked?: AnalyzerInfo;
}

export interface Coverage {
  /** The organisation's analyzers are administered from the account the bot lists (new ones: ORGANIZATION_*). */
  organization: boolean;
  /** Listed regions and the regional kinds missing there (empty when none is). */
  regional: { region: string; missing: MissingAnalyzer[] }[];
  /** Unused access; absent when it cannot be judged (an incomplete listing) or is not expected. */
  unused?: UnusedCoverage;
  /** Customer-managed unused analyzers that report the same findings (more than one per zone). */
  duplicateUnused: { zone: Zone; analyzers: AnalyzerInfo[] }[];
  /** ACTIVE analyzers to scan: every customer-managed one, and a service-linked unused one that is its zone's only source. */
  toScan: AnalyzerInfo[];
}

const isOrgType = (type: string) => type.startsWith('ORGANIZATION');
const serviceLinked = (a: AnalyzerInfo) => a.managedBy !== undefined;
/** A DISABLED analyzer (e.g. the delegated administrator was deregistered) says nothing about this account's role. */
const counts = (a: AnalyzerInfo) => a.status !== 'DISABLED';

function zoneOf(a: AnalyzerInfo): Zone {
  const account = accountOfArn(a.arn);
  if (isOrgType(a.type))
    return account ? { kind: 'organization', adminAccount: account } : { kind: 'organization' };
  return account ? { kind: 'account', accountId: account } : { kind: 'account' };
}

export function zoneKey(z: Zone): string {
  return z.kind === 'organization' ? 'org' : `account-${z.accountId ?? 'self'}`;
}

/**
 * True when an analyzer of zone `outer` sees everything one of zone `inner` does. The bot lists the
 * analyzers of one account, so an organisation analyzer there covers every zone it sees.
 */
function covers(outer: Zone, inner: Zone): boolean {
  if (outer.kind === 'organization') return true;
  return inner.kind === 'account' && inner.accountId === outer.accountId;
}

export function assessCoverage(input: CoverageInput): Coverage {
  const all = input.listings.flatMap((l) => l.analyzers);
  const own = all.filter((a) => !serviceLinked(a));
  // The organisation has analyzers administered from this account: new ones should be ORGANIZATION_*.
  const orgAnalyzer = own.find((a) => isOrgType(a.type) && counts(a));
  const orgAdmin = orgAnalyzer ? accountOfArn(orgAnalyzer.arn) : undefined;
  const ownZone: Zone = orgAnalyzer
    ? orgAdmin
      ? { kind: 'organization', adminAccount: orgAdmin }
      : { kind: 'organization' }
    : (() => {
        const account = all.map((a) => accountOfArn(a.arn)).find((x) => x !== undefined);
        return account ? { kind: 'account', accountId: account } : { kind: 'account' };
      })();

  const orgInternal = own.find((a) => a.type === 'ORGANIZATION_INTERNAL_ACCESS' && counts(a));
  const regional = input.listings.map(({ region, analyzers }) => {
    const present = analyzers.filter((a) => !serviceLinked(a));
    const missing: MissingAnalyzer[] = [];
    if (input.expected.includes('external') && !present.some((a) => a.kind === 'external')) {
      missing.push({ kind: 'external', type: orgAnalyzer ? 'ORGANIZATION' : 'ACCOUNT' });
    }
    if (input.expected.includes('internal') && !present.some((a) => a.kind === 'internal')) {
      // AWS allows one organisation-level internal access analyzer per organisation.
      if (orgAnalyzer && !orgInternal)
        missing.push({ kind: 'internal', type: 'ORGANIZATION_INTERNAL_ACCESS' });
      else if (orgInternal)
        missing.push({
          kind: 'internal',
          type: 'ACCOUNT_INTERNAL_ACCESS',
          orgInternalElsewhere: orgInternal,
        });
      else missing.push({ kind: 'internal', type: 'ACCOUNT_INTERNAL_ACCESS' });
    }
    return { region, missing };
  });

  // Unused access: customer-managed analyzers grouped by the widest zone that holds them.
  const unusedOwn = own.filter((a) => a.kind === 'unused' && counts(a));
  const orgUnused = unusedOwn.filter((a) => isOrgType(a.type));
  const groups = new Map<string, { zone: Zone; analyzers: AnalyzerInfo[] }>();
  for (const a of unusedOwn) {
    const z = zoneOf(a);
    const zone = orgUnused.length > 0 && covers(zoneOf(orgUnused[0]!), z) ? zoneOf(orgUnused[0]!) : z;
    const key = zoneKey(zone);
    const g = groups.get(key) ?? { zone, analyzers: [] };
    g.analyzers.push(a);
    groups.set(key, g);
  }
  const duplicateUnused = [...groups.values()].filter((g) => g.analyzers.length > 1);

  // A service-linked unused analyzer is read when no ACTIVE customer-managed one covers its zone.
  const activeUnused = unusedOwn.filter((a) => a.status === 'ACTIVE');
  const linked = all.filter((a) => serviceLinked(a) && a.kind === 'unused' && a.status === 'ACTIVE');
  const linkedToScan = input.complete
    ? linked.filter((sl) => !activeUnused.some((a) => covers(zoneOf(a), zoneOf(sl))))
    : [];
  // Of several service-linked analyzers for one zone, one is enough.
  const linkedChosen: AnalyzerInfo[] = [];
  for (const sl of linkedToScan) {
    if (!linkedChosen.some((c) => zoneKey(zoneOf(c)) === zoneKey(zoneOf(sl)))) linkedChosen.push(sl);
  }

  let unused: UnusedCoverage | undefined;
  if (input.complete && input.expected.includes('unused')) {
    const coveredByOwn = unusedOwn.some((a) => covers(zoneOf(a), ownZone));
    const coveringLinked = linked.find((a) => covers(zoneOf(a), ownZone));
    if (coveredByOwn) unused = { zone: ownZone, state: 'ok' };
    else if (coveringLinked)
      unused = { zone: ownZone, state: 'service-linked', serviceLinked: coveringLinked };
    else {
      const region =
        input.listings.find((l) => l.analyzers.some((a) => !serviceLinked(a) && counts(a)))?.region ??
        input.configuredRegions[0] ??
        input.listings[0]?.region ??
        'us-east-1';
      unused = {
        zone: ownZone,
        state: 'missing',
        create: {
          type: ownZone.kind === 'organization' ? 'ORGANIZATION_UNUSED_ACCESS' : 'ACCOUNT_UNUSED_ACCESS',
          region,
        },
      };
      const partial = linked[0];
      if (partial) unused.partialServiceLinked = partial;
    }
  }

  const toScan = [...own.filter((a) => a.status === 'ACTIVE'), ...linkedChosen];
  const result: Coverage = { organization: orgAnalyzer !== undefined, regional, duplicateUnused, toScan };
  if (unused) result.unused = unused;
  return result;
}
