// Every action id and callback id the bot puts into Slack, in one place.
export const ACTION_IDS = {
  archive: 'finding_archive',
  unarchive: 'finding_unarchive',
  rescan: 'finding_rescan',
  deleteRole: 'finding_delete_role',
  restoreRole: 'finding_restore_role',
  generatePolicy: 'finding_generate_policy',
  openConsole: 'finding_open_console',
  snooze: 'finding_snooze',
  unsnooze: 'finding_unsnooze',
  recommend: 'finding_recommend',
  blockPublicAccess: 'finding_fix_block_public_access',
  deactivateKey: 'finding_fix_deactivate_key',
  removePassword: 'finding_fix_remove_password',
  removeExternalAccess: 'finding_fix_remove_external_access',
  quarantineRole: 'finding_fix_quarantine_role',
  applyRecommendation: 'finding_fix_apply_recommendation',
  undoFix: 'finding_fix_undo',
  deleteKey: 'finding_fix_delete_key',
  archiveSimilar: 'finding_archive_similar',
  deleteArchiveRule: 'archive_rule_delete',
  createAnalyzer: 'notice_create_analyzer',
} as const;
export type ActionId = (typeof ACTION_IDS)[keyof typeof ACTION_IDS];

/** Message metadata event type carried by every finding message (used for idempotent delivery). */
export const FINDING_MESSAGE_EVENT = 'access_patrol_finding';
/** Metadata event type of a message a job posts once (jobs/post-once.ts): payload `{ once_key }`. */
export const ONCE_POST_EVENT = 'access_patrol_post';

/**
 * The value carried by a finding's buttons: enough to find the finding again without trusting the
 * message text. Kept short (Slack caps button values at 2000 characters).
 */
export interface FindingRef {
  /** Finding id. */
  f: string;
  /** Analyzer ARN. */
  a: string;
  /** Region. */
  r: string;
}

export function encodeFindingRef(ref: FindingRef): string {
  return JSON.stringify(ref);
}

export function decodeFindingRef(value: string): FindingRef | null {
  try {
    const v = JSON.parse(value) as Partial<FindingRef>;
    return typeof v.f === 'string' && typeof v.a === 'string' && typeof v.r === 'string'
      ? { f: v.f, a: v.a, r: v.r }
      : null;
  } catch {
    return null;
  }
}

/** The value of an Undo button: the backup to put back, and the finding it is about. */
export interface UndoRef extends FindingRef {
  /** Backup key. */
  k: string;
}

export function decodeUndoRef(value: string): UndoRef | null {
  const ref = decodeFindingRef(value);
  if (!ref) return null;
  try {
    const k = (JSON.parse(value) as { k?: unknown }).k;
    return typeof k === 'string' && k ? { ...ref, k } : null;
  } catch {
    return null;
  }
}
