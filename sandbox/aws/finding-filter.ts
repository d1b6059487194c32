// ListFindingsV2 `filter`: which keys AWS accepts, and the predicate a filter means (each criterion
// evaluated by the one predicate the bot counts archive rules' matches with).
import { criterionHolds } from '../../src/findings/archive-rule.ts';
import type { SandboxData, SandboxFinding } from '../types.ts';
import { validation } from './wire.ts';

const FINDING_STATUSES = new Set(['ACTIVE', 'ARCHIVED', 'RESOLVED']);
const SUMMARY_FIELDS = new Set([
  'id',
  'resource',
  'resourceType',
  'resourceOwnerAccount',
  'status',
  'findingType',
  'error',
]);
const DETAIL_KEYS = /^(isPublic|principal\..+|condition\..+|resourceControlPolicyRestriction)$/;

type Criterion = { eq?: string[]; neq?: string[]; contains?: string[]; exists?: boolean };

/** Keys ListFindingsV2 takes but an archive rule may not (IAM User Guide, "IAM Access Analyzer filter keys"). */
const NOT_IN_ARCHIVE_RULES = new Set(['status', 'id']);

/**
 * ListFindingsV2 `filter` (or, with `archiveRule`, CreateArchiveRule's, which must not be empty and
 * refuses `status` and `id`) → predicate. Summary keys, plus isPublic/principal.*\/condition.* from
 * the details.
 */
export function compileFilter(
  filter: unknown,
  opts: { archiveRule?: boolean } = {},
): (f: SandboxFinding, data: SandboxData) => boolean {
  if (opts.archiveRule && (filter === undefined || filter === null)) {
    throw validation('filter', 'filter is required', 'fieldValidationFailed');
  }
  if (filter === undefined || filter === null) return () => true;
  if (typeof filter !== 'object' || Array.isArray(filter))
    throw validation('filter', 'Invalid filter', 'fieldValidationFailed');
  if (opts.archiveRule && Object.keys(filter).length === 0) {
    throw validation('filter', 'An archive rule needs at least one criterion', 'fieldValidationFailed');
  }
  const tests: ((f: SandboxFinding, data: SandboxData) => boolean)[] = [];
  for (const [key, raw] of Object.entries(filter as Record<string, Criterion>)) {
    if (!SUMMARY_FIELDS.has(key) && !DETAIL_KEYS.test(key)) {
      throw validation(`filter.${key}`, `Invalid filter key: ${key}`, 'fieldValidationFailed');
    }
    if (opts.archiveRule && NOT_IN_ARCHIVE_RULES.has(key)) {
      throw validation(
        `filter.${key}`,
        `Invalid filter key: ${key} cannot be used in an archive rule`,
        'fieldValidationFailed',
      );
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw validation(`filter.${key}`, `Invalid criterion for ${key}`, 'fieldValidationFailed');
    }
    const c = raw;
    const ops = (['eq', 'neq', 'contains', 'exists'] as const).filter((op) => c[op] !== undefined);
    if (opts.archiveRule && ops.length === 0) {
      throw validation(
        `filter.${key}`,
        `The criterion for ${key} needs one of eq, neq, contains or exists`,
        'fieldValidationFailed',
      );
    }
    if (c.exists !== undefined && typeof c.exists !== 'boolean') {
      throw validation(`filter.${key}.exists`, 'exists must be a boolean', 'fieldValidationFailed');
    }
    for (const op of ['eq', 'neq', 'contains'] as const) {
      const list = c[op];
      if (list === undefined) continue;
      if (
        !Array.isArray(list) ||
        list.length < 1 ||
        list.length > 20 ||
        list.some((v) => typeof v !== 'string')
      ) {
        throw validation(`filter.${key}.${op}`, `${op} takes 1 to 20 values`, 'fieldValidationFailed');
      }
      if (key === 'status' && list.some((s) => !FINDING_STATUSES.has(s))) {
        throw validation('filter.status', `Invalid status value: ${list.join(',')}`, 'fieldValidationFailed');
      }
    }
    const valuesOf = (f: SandboxFinding, data: SandboxData): string[] => {
      if (SUMMARY_FIELDS.has(key)) {
        const v = (f as unknown as Record<string, unknown>)[key];
        return v === undefined ? [] : [String(v)];
      }
      const details = f.details ?? data.detailsFor?.(f) ?? [];
      const out: string[] = [];
      for (const d of details) {
        const inner = (d.externalAccessDetails ?? d.internalAccessDetails) as
          | Record<string, unknown>
          | undefined;
        if (!inner) continue;
        // isPublic is a key of external access only (IAM User Guide, filter keys): internal access has none.
        if (key === 'isPublic') {
          if (d.externalAccessDetails) out.push(String(inner.isPublic === true));
        } else if (key === 'resourceControlPolicyRestriction') {
          if (inner.resourceControlPolicyRestriction !== undefined)
            out.push(String(inner.resourceControlPolicyRestriction));
        } else {
          const [group, ...rest] = key.split('.');
          const obj = inner[group!] as Record<string, unknown> | undefined;
          const v = obj?.[rest.join('.')];
          if (v !== undefined) out.push(...(Array.isArray(v) ? v.map(String) : [String(v)]));
        }
      }
      return out;
    };
    tests.push((f, data) => criterionHolds(c, valuesOf(f, data)));
  }
  return (f, data) => tests.every((t) => t(f, data));
}
