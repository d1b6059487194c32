// `access-patrol audit export [--since YYYY-MM-DD]`: the audit stream as JSON Lines on stdout.
// Only entries go to `out`, so it can be piped; the count and any error go to `err`.
import type { Writable } from 'node:stream';
import type { AuditLog } from './store/audit.ts';

export const AUDIT_EXPORT_USAGE = 'usage: access-patrol audit export [--since YYYY-MM-DD]';

/** Returns the exit code: 0 done, 1 export failed, 2 bad arguments. */
export async function auditExport(
  args: string[],
  deps: { audit: Pick<AuditLog, 'exportJsonLines'>; out: Writable; err: Writable },
): Promise<number> {
  const parsed = parseAuditExportArgs(args);
  if ('help' in parsed) {
    deps.out.write(`${AUDIT_EXPORT_USAGE}\n`);
    return 0;
  }
  if ('problem' in parsed) {
    deps.err.write(`access-patrol audit export: ${parsed.problem}\n${AUDIT_EXPORT_USAGE}\n`);
    return 2;
  }
  try {
    const n = await deps.audit.exportJsonLines(deps.out, parsed.since);
    const from = parsed.since ? ` since ${parsed.since.toISOString().slice(0, 10)}` : '';
    deps.err.write(`exported ${n} audit ${n === 1 ? 'entry' : 'entries'}${from}\n`);
    return 0;
  } catch (e) {
    deps.err.write(`access-patrol audit export failed: ${(e as Error).message}\n`);
    return 1;
  }
}

export type Parsed = { since?: Date } | { problem: string } | { help: true };

export function parseAuditExportArgs(args: string[]): Parsed {
  let since: Date | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') return { help: true };
    let value: string | undefined;
    if (arg === '--since') {
      value = args[++i];
      if (value === undefined) return { problem: '--since needs a date such as 2025-01-31' };
    } else if (arg.startsWith('--since=')) {
      value = arg.slice('--since='.length);
    } else {
      return { problem: `unknown argument ${JSON.stringify(arg)}` };
    }
    const date = parseDay(value);
    if (!date) return { problem: `--since wants a date as YYYY-MM-DD (UTC), got ${JSON.stringify(value)}` };
    since = date;
  }
  return since ? { since } : {};
}

/** A real calendar day at 00:00 UTC, or null (2025-02-30 is not a day). */
function parseDay(text: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d
    ? date
    : null;
}
