// Which buttons a finding card offers: one table, first matching row wins. The card builder
// (blocks/finding.ts), the fix jobs (a fix runs only on a finding its row offers it for) and
// docs/architecture.md ("Buttons per finding type") all follow it.
import type { Finding, FindingType } from './model.ts';

/** One-click fixes: each changes one thing in AWS, keeps what was there, and has an Undo. */
export const FIX_KINDS = [
  'block-public-access',
  'deactivate-key',
  'remove-password',
  'remove-external-access',
  'quarantine-role',
  'apply-recommendation',
] as const;
export type FixKind = (typeof FIX_KINDS)[number];

export type CardButton =
  | 'archive'
  | 'archive-similar'
  | 'rescan'
  | 'generate-policy'
  | 'delete-role'
  | 'recommend'
  | 'snooze'
  | FixKind;

export interface CardButtonRow {
  type: FindingType;
  /** Narrows the row to a resource type. */
  resourceType?: string;
  /** Narrows the row to public (true) external access. */
  isPublic?: boolean;
  /** In the order they are shown, after "Open in console". */
  buttons: readonly CardButton[];
  /** Fixes offered by a later message of the card (the recommendation's Apply), not the card itself. */
  later?: readonly FixKind[];
}

/** What the card offers for an unused role (config `roles.unusedRole`). */
export type UnusedRoleChoice = 'quarantine' | 'delete' | 'both';

export const CARD_BUTTONS: readonly CardButtonRow[] = [
  {
    type: 'ExternalAccess',
    resourceType: 'AWS::S3::Bucket',
    isPublic: true,
    buttons: ['archive', 'archive-similar', 'rescan', 'block-public-access', 'snooze'],
  },
  {
    type: 'ExternalAccess',
    resourceType: 'AWS::IAM::Role',
    buttons: ['archive', 'archive-similar', 'rescan', 'remove-external-access', 'generate-policy', 'snooze'],
  },
  { type: 'ExternalAccess', buttons: ['archive', 'archive-similar', 'rescan', 'snooze'] },
  {
    type: 'InternalAccess',
    resourceType: 'AWS::IAM::Role',
    buttons: ['archive', 'archive-similar', 'generate-policy', 'snooze'],
  },
  {
    type: 'InternalAccess',
    resourceType: 'AWS::IAM::User',
    buttons: ['archive', 'archive-similar', 'generate-policy', 'snooze'],
  },
  { type: 'InternalAccess', buttons: ['archive', 'archive-similar', 'snooze'] },
  {
    type: 'UnusedIAMRole',
    buttons: ['archive', 'archive-similar', 'generate-policy', 'quarantine-role', 'delete-role', 'snooze'],
  },
  { type: 'UnusedIAMUserAccessKey', buttons: ['archive', 'archive-similar', 'deactivate-key', 'snooze'] },
  { type: 'UnusedIAMUserPassword', buttons: ['archive', 'archive-similar', 'remove-password', 'snooze'] },
  {
    type: 'UnusedPermission',
    buttons: ['archive', 'archive-similar', 'generate-policy', 'recommend', 'snooze'],
    later: ['apply-recommendation'],
  },
];

type Described = Pick<Finding, 'findingType' | 'resourceType'> & { details?: Finding['details'] };

/** Whether a finding is public external access (an unknown shape is not). */
function isPublic(f: Described): boolean {
  return f.details?.kind === 'externalAccess' && f.details.isPublic;
}

/** The row of the table that applies to a finding. */
export function cardButtonRow(f: Described): CardButtonRow | undefined {
  return CARD_BUTTONS.find(
    (row) =>
      row.type === f.findingType &&
      (row.resourceType === undefined || row.resourceType === f.resourceType) &&
      (row.isPublic === undefined || row.isPublic === isPublic(f)),
  );
}

/**
 * The buttons an ACTIVE card of this finding offers (before read-only and snooze adjustments). An
 * unused role offers Quarantine role, Delete role or both, as `roles.unusedRole` says.
 */
export function cardButtonsFor(
  f: Described,
  unusedRole: UnusedRoleChoice = 'quarantine',
): readonly CardButton[] {
  const buttons = cardButtonRow(f)?.buttons ?? ['archive', 'archive-similar', 'snooze'];
  if (unusedRole === 'both') return buttons;
  const left = unusedRole === 'quarantine' ? 'delete-role' : 'quarantine-role';
  return buttons.filter((b) => b !== left);
}

/** Whether a fix fits a finding: only the fixes its card (or a later message of it) offers may run on it. */
export function fixFits(kind: FixKind, f: Described, unusedRole: UnusedRoleChoice = 'quarantine'): boolean {
  return cardButtonsFor(f, unusedRole).includes(kind) || !!cardButtonRow(f)?.later?.includes(kind);
}

export function isFixKind(v: unknown): v is FixKind {
  return typeof v === 'string' && (FIX_KINDS as readonly string[]).includes(v);
}
