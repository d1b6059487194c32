// Role backups taken just before a role is deleted from Slack; the Restore button reads them back.
import type { Redis } from 'ioredis';
import type { RoleBackup } from '../aws/iam.ts';
import type { Keys } from './keys.ts';
import { JOB_POST_TTL_SECONDS } from './once.ts';

export class RoleBackupStore {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
    private readonly retentionDays: number,
  ) {}

  /** Saves a backup and returns its key; saving the same backup twice is harmless. */
  async save(backup: RoleBackup): Promise<string> {
    const key = this.k.roleBackup(backup.accountId, backup.roleName, backup.takenAt);
    await this.redis.set(key, JSON.stringify(backup), 'EX', this.retentionDays * 86_400);
    return key;
  }

  /** Backups of one role, newest first (for `access-patrol restore-role` when Slack is not there). */
  async list(accountId: string, roleName: string): Promise<{ key: string; takenAt: string }[]> {
    const prefix = this.k.roleBackup(accountId, roleName, '');
    const found: { key: string; takenAt: string }[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(
        cursor,
        'MATCH',
        `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`,
        'COUNT',
        500,
      );
      cursor = next;
      for (const key of batch) found.push({ key, takenAt: key.slice(prefix.length) });
    } while (cursor !== '0');
    return found.sort((a, b) => b.takenAt.localeCompare(a.takenAt));
  }

  async get(key: string): Promise<RoleBackup | null> {
    if (!key.startsWith(this.k.roleBackup('', '', '').split('::')[0]!)) return null;
    const raw = await this.redis.get(key);
    return raw ? (JSON.parse(raw) as RoleBackup) : null;
  }
}

/** What a one-click fix found and left, saved before its first change; Undo puts `before` back. */
export interface FixBackup<S = unknown> {
  version: 1;
  kind: string;
  findingId: string;
  accountId: string;
  region: string;
  /** What the fix acts on: the bucket, the user (and key id), the role. */
  target: Record<string, string>;
  /** The state before the fix, as AWS answered (null: nothing was there, e.g. no configuration). */
  before: S;
  /** The state the fix sets. Undo acts only while AWS still shows it. */
  after: S;
  /** Slack user id of who asked for the fix. */
  by: string;
  /** ISO-8601. */
  takenAt: string;
}

export class FixBackupStore {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
    private readonly retentionDays: number,
  ) {}

  /**
   * Saves a backup (before the fix changes anything) and returns its key. `extraDays` keeps it that
   * much longer than the retention (a quarantine's, until its end job has read it).
   */
  async save(backup: FixBackup, extraDays = 0): Promise<string> {
    const key = this.k.fixBackup(backup.kind, backup.findingId, backup.takenAt);
    await this.redis.set(key, JSON.stringify(backup), 'EX', (this.retentionDays + extraDays) * 86_400);
    return key;
  }

  /** Records the backup a step of a fix job saved, so a retry of that job resumes from it. */
  async recordForJob(jobStep: string, backupKey: string): Promise<void> {
    await this.redis.set(this.k.jobPost(jobStep), backupKey, 'EX', JOB_POST_TTL_SECONDS);
  }

  /** The backup a step of a fix job saved, or null when that step has not saved one yet. */
  async savedForJob(jobStep: string): Promise<string | null> {
    return this.redis.get(this.k.jobPost(jobStep));
  }

  /** A backup by its key; null for a key that is not a fix backup of this bot, or expired. */
  async get(key: string): Promise<FixBackup | null> {
    if (!key.startsWith(this.k.fixBackup('', '', '').split('::')[0]!)) return null;
    const raw = await this.redis.get(key);
    return raw ? (JSON.parse(raw) as FixBackup) : null;
  }
}
