// What Access Analyzer does with its archive rules as findings are generated: "Archive rules
// automatically archive new findings that meet the criteria you define" (IAM User Guide, archive
// rules), and a finding that is updated is checked against them again. ApplyArchiveRule is what
// archives the findings that were there before a rule. The stand-in does it lazily: before each
// Access Analyzer request, a finding of an analyzer with rules that is new or was updated
// (another `updatedAt`) since the last request comes out ARCHIVED when one of them matches it.
// What a request itself changes (an unarchive, ApplyArchiveRule) is not news to the next one.
import type { SandboxAnalyzer, SandboxData } from '../types.ts';
import { compileFilter } from './finding-filter.ts';
import { isoNow } from './wire.ts';

export function archiveOnArrival(data: SandboxData) {
  /** Per analyzer with rules: each finding's `updatedAt` as the last request left it. */
  const seen = new Map<string, Map<string, string>>();
  const ruled = () => data.analyzers.filter((a) => (a.archiveRules?.length ?? 0) > 0);
  const record = (a: SandboxAnalyzer) =>
    seen.set(a.arn, new Map(data.findings.forAnalyzer(a.arn).map((f) => [f.id, f.updatedAt])));

  return {
    /** Before a request: rules archive what was generated or updated since the last one. */
    arrive(): void {
      const live = new Set<string>();
      for (const a of ruled()) {
        live.add(a.arn);
        const before = seen.get(a.arn);
        // Rules that the last request did not see (put in the data since) archive from now on.
        if (!before) {
          record(a);
          continue;
        }
        const rules = (a.archiveRules ?? []).map((r) => compileFilter(r.filter, { archiveRule: true }));
        for (const f of data.findings.forAnalyzer(a.arn)) {
          if (before.get(f.id) === f.updatedAt || f.status !== 'ACTIVE') continue;
          if (rules.some((matches) => matches(f, data))) {
            f.status = 'ARCHIVED';
            f.updatedAt = isoNow();
          }
        }
        record(a);
      }
      for (const arn of seen.keys()) if (!live.has(arn)) seen.delete(arn);
    },
    /** After a request: what it changed (and a rule it created) is the state the next one compares with. */
    settle(): void {
      for (const a of ruled()) record(a);
    },
  };
}
