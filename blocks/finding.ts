// One finding as one Slack message. Pure: the same input gives the same JSON (time comes from `now`).
import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import { differenceInDays } from 'date-fns/differenceInDays';
import { formatDistanceStrict } from 'date-fns/formatDistanceStrict';
import {
  type CardButton,
  cardButtonsFor,
  type FixKind,
  type UnusedRoleChoice,
} from '../src/findings/card-actions.ts';
import type {
  AccessGrant,
  Finding,
  FindingStatus,
  Route,
  Severity,
  UnusedService,
} from '../src/findings/model.ts';
import type { Assessed } from '../src/findings/severity.ts';
import { shortHash } from '../src/util/hash.ts';
import { code, escapeMrkdwn, plain, SLACK_USER_ID } from './escape.ts';
import { undoButton } from './fixes.ts';
import { ACTION_IDS, encodeFindingRef } from './ids.ts';
import {
  capBlocks,
  context,
  fitButtonText,
  fitButtonValue,
  fitMessageText,
  LIMITS,
  type SlackMessage,
  section,
  truncate,
} from './limits.ts';
import {
  bold,
  freeText,
  ident,
  identifierList,
  type Line,
  lineSize,
  type Piece,
  person,
  richLines,
  words,
} from './rich.ts';

export interface FindingState {
  status: FindingStatus;
  /** When it was resolved or archived (ISO-8601). */
  at?: string;
  /** Slack user id of who archived it from Slack. */
  by?: string;
  /** Why (typed by that person). */
  reason?: string;
  /** When an archive made from Slack expires (YYYY-MM-DD). */
  until?: string;
  /** The role was deleted from Slack (the finding stays ACTIVE until the analyzer runs again). */
  deleted?: { by: string; at: string; backupKey: string };
  /** Aging reminders are snoozed (ACTIVE findings only): who, until when (ISO), why. */
  snoozed?: { by: string; until: string; reason: string };
  /**
   * The role is quarantined from Slack (a deny-all policy): who, until when (YYYY-MM-DD), and the
   * backup Still needed puts back.
   */
  quarantined?: { by: string; until: string; backupKey: string };
}

export interface FindingView {
  finding: Finding;
  severity: Assessed;
  route: Route;
  accountName?: string;
  /** Console host of the partition, e.g. https://console.aws.amazon.com */
  consoleUrl: string;
  now: Date;
  /** Overrides `finding.status` (e.g. when a button archived it and the scan has not run yet). */
  state?: FindingState;
  /** What an unused role's card offers (config `roles.unusedRole`); quarantine when absent. */
  unusedRole?: UnusedRoleChoice;
}

export const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: '🔴',
  high: '🟠',
  medium: '🟡',
  low: '🔵',
  info: '⚪',
};

/** Block ids of a finding message, for handlers that look for a block. */
export const FINDING_BLOCK_IDS = {
  headline: 'finding_headline',
  fields: 'finding_fields',
  resource: 'finding_resource',
  details: 'finding_details',
  context: 'finding_context',
  actions: 'finding_actions',
} as const;

// Caps for single items inside lists and fields (the lists themselves are capped by listWithMore).
const ITEM_MAX = 200;
const NAME_MAX = 120;
const ARN_MAX = 400;

// ---------------------------------------------------------------------------------------------
// Headline: "S3 bucket `logs-prod` is public". Built from segments so that the same words can be
// rendered as mrkdwn (identifiers in code spans) and as the plain notification text.

type Seg = { lit: string } | { id: string } | { txt: string };
const lit = (s: string): Seg => ({ lit: s });
const id = (s: string): Seg => ({ id: s });
const txt = (s: string): Seg => ({ txt: s });

export interface Headline {
  /** For the card: bold rich text, identifiers code-styled and exact. */
  pieces: Piece[];
  /** For mrkdwn blocks elsewhere (summaries, digests): identifiers as code spans. */
  mrkdwn: string;
  /** For the fallback `text`: everything escaped, no code spans. */
  text: string;
}

function renderSegs(segs: readonly Seg[]): Headline {
  let mrkdwn = '';
  let text = '';
  const pieces: Piece[] = [];
  for (const s of segs) {
    if ('lit' in s) {
      mrkdwn += s.lit;
      text += s.lit;
      pieces.push(bold(s.lit));
    } else if ('id' in s) {
      mrkdwn += code(s.id, NAME_MAX);
      text += escapeMrkdwn(truncate(s.id, NAME_MAX));
      pieces.push({ id: s.id, max: NAME_MAX, bold: true });
    } else {
      mrkdwn += escapeMrkdwn(s.txt);
      text += escapeMrkdwn(s.txt);
      pieces.push(freeText(s.txt, 200, true));
    }
  }
  return { pieces, mrkdwn, text };
}

const RESOURCE_KINDS: Record<string, string> = {
  'AWS::S3::Bucket': 'S3 bucket',
  'AWS::S3::AccessPoint': 'S3 access point',
  'AWS::S3::Glacier': 'S3 Glacier vault',
  'AWS::S3Express::DirectoryBucket': 'S3 directory bucket',
  'AWS::S3Express::AccessPoint': 'S3 directory bucket access point',
  'AWS::S3Tables::TableBucket': 'S3 table bucket',
  'AWS::S3Tables::Table': 'S3 table',
  'AWS::IAM::Role': 'Role',
  'AWS::IAM::User': 'User',
  'AWS::KMS::Key': 'KMS key',
  'AWS::Lambda::Function': 'Lambda function',
  'AWS::Lambda::LayerVersion': 'Lambda layer',
  'AWS::SQS::Queue': 'SQS queue',
  'AWS::SNS::Topic': 'SNS topic',
  'AWS::SecretsManager::Secret': 'Secret',
  'AWS::EFS::FileSystem': 'EFS file system',
  'AWS::DynamoDB::Table': 'DynamoDB table',
  'AWS::DynamoDB::Stream': 'DynamoDB stream',
  'AWS::ECR::Repository': 'ECR repository',
  'AWS::RDS::DBSnapshot': 'RDS snapshot',
  'AWS::RDS::DBClusterSnapshot': 'RDS cluster snapshot',
  'AWS::EC2::Snapshot': 'EBS snapshot',
};

/** "S3 bucket", "Role", …; for an unknown type "Glue Database" from `AWS::Glue::Database`. */
function resourceKind(resourceType: string): Seg {
  const known = RESOURCE_KINDS[resourceType];
  if (known) return lit(known);
  const m = /^AWS::([A-Za-z0-9]+)::([A-Za-z0-9]+)$/.exec(resourceType);
  return m ? txt(`${m[1]} ${m[2]}`) : lit('Resource');
}

/** The short name of a resource from its ARN: bucket name, role name, key id, function name, … */
export function resourceName(resourceType: string, arn: string): string {
  if (!arn.startsWith('arn:')) return arn;
  const res = arn.split(':').slice(5).join(':').replace(/\/+$/, '');
  if (resourceType === 'AWS::Lambda::LayerVersion') return res.split(':')[1] ?? res; // layer:name:version
  if (resourceType === 'AWS::DynamoDB::Stream') return res.split('/')[1] ?? res; // table/name/stream/label
  const slash = res.lastIndexOf('/');
  if (slash >= 0 && slash < res.length - 1) return res.slice(slash + 1);
  const colon = res.lastIndexOf(':');
  if (colon >= 0 && colon < res.length - 1) return res.slice(colon + 1);
  return res || arn;
}

function isoDay(iso: string): string | undefined {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString().slice(0, 10);
}

/** A date as YYYY-MM-DD (UTC), or the raw text escaped when it does not parse. */
function day(iso: string): string {
  return isoDay(iso) ?? escapeMrkdwn(truncate(iso, 40));
}

/** A date as YYYY-MM-DD (UTC) for rich text: the raw text when it does not parse. */
function dayPiece(iso: string): Piece {
  const d = isoDay(iso);
  return d !== undefined ? words(d) : freeText(iso, 40);
}

function daysSince(iso: string, now: Date): number | undefined {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : Math.max(0, differenceInDays(now, t));
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function unusedFor(lastAccessed: string | undefined, now: Date): Seg[] {
  if (lastAccessed === undefined) return [lit(' has never been used')];
  const d = daysSince(lastAccessed, now);
  if (d === undefined) return [lit(' unused since '), txt(lastAccessed)];
  return [lit(` unused for ${plural(d, 'day')}`)];
}

/** The account of a principal value: a 12-digit id, or the account inside an ARN. */
function accountOfPrincipal(value: string): string | undefined {
  if (/^\d{12}$/.test(value)) return value;
  const part = value.startsWith('arn:') ? value.split(':')[4] : undefined;
  return part && /^\d{12}$/.test(part) ? part : undefined;
}

function principalValues(grants: readonly AccessGrant[]): string[] {
  return unique(grants.flatMap((g) => Object.values(g.principal)));
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** "role `x` in account 1111", "account 1111", or the value as an identifier. */
function describePrincipal(value: string): Seg[] {
  if (/^\d{12}$/.test(value)) return [lit('account '), txt(value)];
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(value);
  if (m) return [lit(`${m[2]} `), id(m[3]!), lit(' in account '), txt(m[1]!)];
  if (/^arn:aws[a-z-]*:iam::(\d{12}):root$/.test(value)) {
    return [lit('account '), txt(accountOfPrincipal(value)!)];
  }
  return [id(value)];
}

function headlineSegs(f: Finding, now: Date): Seg[] {
  const kind = resourceKind(f.resourceType);
  const name = id(resourceName(f.resourceType, f.resourceArn));
  const d = f.details;
  switch (d.kind) {
    case 'externalAccess': {
      if (d.isPublic) return [kind, lit(' '), name, lit(' is public')];
      const principals = principalValues(d.grants);
      const accounts = unique(principals.map(accountOfPrincipal));
      const base = [kind, lit(' '), name, lit(' is shared with ')];
      if (principals.length === 0)
        return [kind, lit(' '), name, lit(' is shared outside your zone of trust')];
      if (accounts.length === 1 && accounts[0] !== undefined)
        return [...base, lit('account '), txt(accounts[0])];
      if (principals.length === 1) return [...base, ...describePrincipal(principals[0]!)];
      if (accounts.every((a) => a !== undefined))
        return [...base, lit(`${accounts.length} external accounts`)];
      return [...base, lit(`${principals.length} external principals`)];
    }
    case 'internalAccess': {
      const principals = principalValues(d.grants);
      const base = [kind, lit(' '), name, lit(' is accessible to ')];
      if (principals.length === 1) return [...base, ...describePrincipal(principals[0]!)];
      const scope = d.grants.every((g) => g.accessType === 'INTRA_ACCOUNT')
        ? 'the account'
        : 'the organization';
      if (principals.length === 0) return [kind, lit(' '), name, lit(` is accessible within ${scope}`)];
      return [...base, lit(`${principals.length} principals in ${scope}`)];
    }
    case 'unusedRole':
      return [lit('Role '), name, ...unusedFor(d.lastAccessed, now)];
    case 'unusedAccessKey':
      return [
        lit('Access key '),
        id(d.accessKeyId),
        lit(' of user '),
        name,
        ...unusedFor(d.lastAccessed, now),
      ];
    case 'unusedPassword':
      return [lit('Password of user '), name, ...unusedFor(d.lastAccessed, now)];
    case 'unusedPermission': {
      const n = d.services.length;
      const tail = n === 0 ? ' has unused permissions' : ` has unused permissions in ${plural(n, 'service')}`;
      return [kind, lit(' '), name, lit(tail)];
    }
  }
}

/** What is wrong, in plain words: "S3 bucket `logs-prod` is public". */
export function findingHeadline(finding: Finding, now: Date): Headline {
  return renderSegs(headlineSegs(finding, now));
}

// ---------------------------------------------------------------------------------------------
// Console link. The URL forms are the ones AWS uses as `SourceUrl` when Access Analyzer sends
// findings to Security Hub (IAM User Guide, "Integration with AWS Security Hub"):
//   external access: …/access-analyzer/home?region=R#/findings/details/<finding id>
//   unused access:   …/access-analyzer/home?region=R#/unused-access-findings?resource=<resource ARN>
// No documented form was found for internal access findings; they use the finding-details form.

const UNUSED_TYPES = new Set<string>([
  'UnusedIAMRole',
  'UnusedIAMUserAccessKey',
  'UnusedIAMUserPassword',
  'UnusedPermission',
]);

export function findingConsoleUrl(consoleUrl: string, f: Finding): string {
  const base = `${consoleUrl.replace(/\/+$/, '')}/access-analyzer/home?region=${encodeURIComponent(f.region)}`;
  const url = UNUSED_TYPES.has(f.findingType)
    ? `${base}#/unused-access-findings?resource=${encodeURIComponent(f.resourceArn)}`
    : `${base}#/findings/details/${encodeURIComponent(f.id)}`;
  return url.length <= LIMITS.buttonUrl ? url : `${base}#/findings`;
}

// ---------------------------------------------------------------------------------------------
// Fields and details.

const field = (label: string, value: string) => `*${label}*\n${value}`;

function severityText(a: Assessed): string {
  const word = a.severity.charAt(0).toUpperCase() + a.severity.slice(1);
  return `${SEVERITY_EMOJI[a.severity]} ${word} (${a.category.replace(/-/g, ' ')})`;
}

function accountLine(accountId: string, name?: string): Line {
  const id = ident(accountId, 40);
  return name ? [bold('Account'), ': ', id, ' (', freeText(name, 80), ')'] : [bold('Account'), ': ', id];
}

function ageText(createdAt: string, now: Date): string {
  const t = Date.parse(createdAt);
  if (Number.isNaN(t)) return `Created ${day(createdAt)}`;
  return `Created ${formatDistanceStrict(t, now, { addSuffix: true })} (${day(createdAt)})`;
}

function statusText(status: FindingStatus, at?: string): string {
  const word = { ACTIVE: 'Active', ARCHIVED: 'Archived', RESOLVED: 'Resolved' }[status];
  return at !== undefined && status !== 'ACTIVE' ? `${word} ${day(at)}` : word;
}

function lastUsedText(lastAccessed: string | undefined): string {
  return lastAccessed === undefined ? 'Never used' : day(lastAccessed);
}

function lastUsedPiece(lastAccessed: string | undefined): Piece {
  return lastAccessed === undefined ? words('Never used') : dayPiece(lastAccessed);
}

function principalItem(key: string, value: string): Line {
  if (key === 'AWS') return value === '*' ? [ident(value), ' (anyone)'] : [ident(value, ITEM_MAX)];
  return [ident(`${key}: ${value}`, ITEM_MAX)];
}

const LIST_ITEMS = 25;
/** Size (`lineSize`) of one list of identifiers: the seven lists of an internal-access grant and the
 * rest of the card stay within a message's budget for its blocks (LIMITS.messageBlocksText). */
const LIST_CHARS = 1000;

/** A labelled, capped list of raw values: only the items that can be shown are formatted. */
function list(label: string, raw: readonly string[], format: (s: string) => Line, none: string): Line {
  if (raw.length === 0) return [bold(label), ': ', none];
  const shown = raw.slice(0, LIST_ITEMS).map(format);
  return [bold(label), ': ', ...identifierList(shown, LIST_ITEMS, LIST_CHARS, raw.length)];
}

function grantLines(grants: readonly AccessGrant[], internal: boolean): Line[] {
  const principals = unique(
    grants.flatMap((g) => Object.entries(g.principal).map((kv) => JSON.stringify(kv))),
  );
  const actions = unique(grants.flatMap((g) => g.actions));
  const conditions = unique(
    grants.flatMap((g) => Object.entries(g.conditions).map(([k, v]) => `${k} = ${v}`)),
  );
  const sources = unique(grants.flatMap((g) => g.sources));
  const item = (s: string): Line => [ident(s, ITEM_MAX)];
  const short = (s: string): Line => [ident(s, 40)];
  const principal = (json: string) => {
    const [k, v] = JSON.parse(json) as [string, string];
    return principalItem(k, v);
  };
  const out = [
    list(`Principals (${principals.length})`, principals, principal, 'None listed'),
    list(`Actions (${actions.length})`, actions, item, 'None listed'),
    list('Conditions', conditions, item, 'None'),
  ];
  if (internal) {
    const owners = unique(grants.flatMap((g) => (g.principalOwnerAccount ? [g.principalOwnerAccount] : [])));
    const types = unique(grants.flatMap((g) => (g.accessType ? [g.accessType] : [])));
    const ptypes = unique(grants.flatMap((g) => (g.principalType ? [g.principalType] : [])));
    out.push(list('Principal owner account', owners, short, 'Unknown'));
    out.push(list('Access type', types, short, 'Unknown'));
    out.push(list('Principal type', ptypes, short, 'Unknown'));
  }
  out.push(list('Granted by', sources, item, 'Unknown'));
  return out;
}

function detailsBlock(f: Finding): KnownBlock | undefined {
  const d = f.details;
  switch (d.kind) {
    case 'externalAccess':
      return richLines(
        [[bold('Public'), ': ', d.isPublic ? 'Yes' : 'No'], ...grantLines(d.grants, false)],
        FINDING_BLOCK_IDS.details,
      );
    case 'internalAccess':
      return richLines(grantLines(d.grants, true), FINDING_BLOCK_IDS.details);
    case 'unusedRole':
      return {
        ...section(undefined, [field('Last used', lastUsedText(d.lastAccessed))]),
        block_id: FINDING_BLOCK_IDS.details,
      };
    case 'unusedAccessKey':
      return richLines(
        [
          [bold('Access key'), ': ', ident(d.accessKeyId, ITEM_MAX)],
          [bold('User'), ': ', ident(resourceName(f.resourceType, f.resourceArn), NAME_MAX)],
          [bold('Last used'), ': ', lastUsedPiece(d.lastAccessed)],
        ],
        FINDING_BLOCK_IDS.details,
      );
    case 'unusedPassword':
      return richLines(
        [
          [bold('User'), ': ', ident(resourceName(f.resourceType, f.resourceArn), NAME_MAX)],
          [bold('Password last used'), ': ', lastUsedPiece(d.lastAccessed)],
        ],
        FINDING_BLOCK_IDS.details,
      );
    case 'unusedPermission': {
      if (d.services.length === 0) return undefined;
      return richLines(unusedServiceLines('Unused services', d.services, 8), FINDING_BLOCK_IDS.details);
    }
  }
}

/** When a service or action was last used, as words. */
function usedPieces(lastAccessed: string | undefined): Line {
  return lastAccessed ? ['last used ', dayPiece(lastAccessed)] : ['never used'];
}

/** Size (`lineSize`) of the unused-services list: within a section's 3000, as before. */
const SERVICES_CHARS = LIMITS.sectionText - 200;

/**
 * Unused services and their actions, one line each ("• `s3`, never used: `s3:GetObject` (last used
 * 2024-01-02), …"), as many as fit, then "… and N more services". Shared with the recommendation.
 */
export function unusedServiceLines(
  title: string,
  services: readonly UnusedService[],
  actionsPerService: number,
): Line[] {
  const lines: Line[] = [[bold(`${title} (${services.length})`)]];
  let used = 0;
  let shown = 0;
  for (const s of services.slice(0, 20)) {
    const actions: Line[] = s.actions
      .slice(0, actionsPerService)
      .map((a) => [ident(a.action, ITEM_MAX), ' (', ...usedPieces(a.lastAccessed), ')']);
    const acts =
      actions.length > 0 ? [': ', ...identifierList(actions, actionsPerService, 500, s.actions.length)] : [];
    const line: Line = ['• ', ident(s.serviceNamespace, 80), ', ', ...usedPieces(s.lastAccessed), ...acts];
    const n = lineSize(line) + 1;
    if (shown > 0 && used + n > SERVICES_CHARS) break;
    lines.push(line);
    used += n;
    shown += 1;
  }
  if (services.length > shown) lines.push([`… and ${services.length - shown} more`]);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Buttons.

function button(text: string, actionId: string, value: string, style?: Button['style']): Button {
  const b: Button = {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text: fitButtonText(text) },
    value: fitButtonValue(value),
  };
  if (style) b.style = style;
  return b;
}

/** What each fix button says, and its confirm dialog (a fix changes AWS, so it is always confirmed). */
export const FIX_BUTTONS: Record<
  FixKind,
  { label: string; actionId: string; title: string; confirm: (f: Finding) => string }
> = {
  'block-public-access': {
    label: 'Block public access',
    actionId: ACTION_IDS.blockPublicAccess,
    title: 'Block public access?',
    confirm: (f) =>
      `Turn on all four Block Public Access settings of bucket ${resourceName(f.resourceType, f.resourceArn)} in account ${f.accountId}? Anyone relying on public access loses it. The current settings are saved; Undo puts them back.`,
  },
  'deactivate-key': {
    label: 'Deactivate key',
    actionId: ACTION_IDS.deactivateKey,
    title: 'Deactivate this key?',
    confirm: (f) =>
      `Make access key ${f.details?.kind === 'unusedAccessKey' ? `${f.details.accessKeyId} ` : ''}of user ${resourceName(f.resourceType, f.resourceArn)} inactive? Anything still signing with it stops working. Undo makes it active again.`,
  },
  'remove-password': {
    label: 'Remove password',
    actionId: ACTION_IDS.removePassword,
    title: 'Remove the console password?',
    confirm: (f) =>
      `Delete the console password of user ${resourceName(f.resourceType, f.resourceArn)} in account ${f.accountId}? Access keys are not touched. Undo sets a new random password that must be changed at first sign-in, sent only to the person who clicks Undo.`,
  },
  'remove-external-access': {
    label: 'Remove external access',
    actionId: ACTION_IDS.removeExternalAccess,
    title: 'Remove the external principal?',
    confirm: (f) =>
      `Remove the external principals of this finding from the trust policy of role ${resourceName(f.resourceType, f.resourceArn)}? The bot proves first (CheckNoNewAccess) that the new policy grants nothing new. The current trust policy is saved; Undo puts it back exactly.`,
  },
  'quarantine-role': {
    label: 'Quarantine role',
    actionId: ACTION_IDS.quarantineRole,
    title: 'Quarantine this role?',
    confirm: (f) =>
      `Add a deny-all policy to role ${resourceName(f.resourceType, f.resourceArn)} in account ${f.accountId}, so every call made with it is refused, and delete it (with a backup) when the quarantine ends? Nothing is removed now; Still needed lifts the quarantine at any time.`,
  },
  'apply-recommendation': {
    label: 'Apply recommendation',
    actionId: ACTION_IDS.applyRecommendation,
    title: 'Apply the recommendation?',
    confirm: (f) =>
      `Follow AWS's recommended steps for ${resourceName(f.resourceType, f.resourceArn)} in account ${f.accountId}: create the recommended policy, attach it, detach the old one? The attached policies are saved; Undo reverses each step.`,
  },
};

function fixButton(kind: FixKind, f: Finding, value: string): Button {
  const spec = FIX_BUTTONS[kind];
  const b = button(spec.label, spec.actionId, value, 'danger');
  b.confirm = {
    title: { type: 'plain_text', text: spec.title },
    text: { type: 'plain_text', text: plain(spec.confirm(f), LIMITS.confirmText) },
    confirm: { type: 'plain_text', text: spec.label },
    deny: { type: 'plain_text', text: 'Cancel' },
    style: 'danger',
  };
  return b;
}

function deleteRoleButton(f: Finding, value: string): Button {
  const del = button('Delete role', ACTION_IDS.deleteRole, value, 'danger');
  const role = resourceName(f.resourceType, f.resourceArn);
  del.confirm = {
    title: { type: 'plain_text', text: 'Delete this role?' },
    text: {
      type: 'plain_text',
      text: plain(
        `Delete role ${truncate(role, 120)} in account ${f.accountId}? Anything that still uses it will lose access.`,
        LIMITS.confirmText,
      ),
    },
    confirm: { type: 'plain_text', text: 'Delete role' },
    deny: { type: 'plain_text', text: 'Cancel' },
    style: 'danger',
  };
  return del;
}

/** One button of the table, or undefined when this card may not show it. */
function cardButton(
  kind: CardButton,
  f: Finding,
  value: string,
  card: { writable: boolean; snoozed: boolean },
): Button | undefined {
  switch (kind) {
    case 'archive':
      return card.writable ? button('Archive', ACTION_IDS.archive, value) : undefined;
    case 'archive-similar':
      return card.writable ? button('Archive similar', ACTION_IDS.archiveSimilar, value) : undefined;
    case 'rescan':
      return button('Rescan', ACTION_IDS.rescan, value);
    case 'generate-policy':
      return button('Generate policy', ACTION_IDS.generatePolicy, value);
    case 'delete-role':
      return deleteRoleButton(f, value);
    case 'recommend':
      return card.writable ? button('Show recommendation', ACTION_IDS.recommend, value) : undefined;
    case 'snooze':
      return card.snoozed
        ? button('Unsnooze', ACTION_IDS.unsnooze, value)
        : button('Snooze', ACTION_IDS.snooze, value);
    default:
      return fixButton(kind, f, value);
  }
}

function actionsBlock(
  f: Finding,
  status: FindingStatus,
  consoleUrl: string,
  deleted?: FindingState['deleted'],
  snoozed?: FindingState['snoozed'],
  quarantined?: FindingState['quarantined'],
  unusedRole?: UnusedRoleChoice,
): ActionsBlock {
  const value = encodeFindingRef({ f: f.id, a: f.analyzerArn, r: f.region });
  const elements: Button[] = [
    {
      type: 'button',
      action_id: ACTION_IDS.openConsole,
      text: { type: 'plain_text', text: 'Open in console' },
      url: findingConsoleUrl(consoleUrl, f),
    },
  ];
  if (deleted) {
    elements.push(
      button(
        'Restore role',
        ACTION_IDS.restoreRole,
        JSON.stringify({ k: deleted.backupKey, ...JSON.parse(value) }),
      ),
    );
  } else if (status === 'ACTIVE') {
    // A service-linked analyzer's findings are read-only in AWS: no button that would change them.
    const writable = f.managedBy === undefined;
    // One table says which buttons fit which finding (src/findings/card-actions.ts).
    for (const kind of cardButtonsFor(f, unusedRole)) {
      // A quarantined role offers Still needed (the quarantine's Undo) instead of quarantine or delete.
      if (quarantined && (kind === 'quarantine-role' || kind === 'delete-role')) {
        if (kind === 'quarantine-role' || !elements.some((e) => e.action_id === ACTION_IDS.undoFix)) {
          elements.push(
            undoButton('quarantine-role', {
              backupKey: quarantined.backupKey,
              findingId: f.id,
              analyzerArn: f.analyzerArn,
              region: f.region,
            }),
          );
        }
        continue;
      }
      const b = cardButton(kind, f, value, { writable, snoozed: snoozed !== undefined });
      if (b) elements.push(b);
    }
  } else if (status === 'ARCHIVED' && f.managedBy === undefined) {
    elements.push(button('Unarchive', ACTION_IDS.unarchive, value));
  }
  return { type: 'actions', block_id: FINDING_BLOCK_IDS.actions, elements };
}

// ---------------------------------------------------------------------------------------------

/** A day of the card's state line, in bold. */
const boldDay = (iso: string): Piece => ({ ...dayPiece(iso), bold: true }) as Piece;

/** " until <day>" in bold. */
const untilDay = (iso: string): Line => [bold(' until '), boldDay(iso)];

/** " by <person>" for a Slack user id, nothing otherwise. */
const byPerson = (user: string | undefined): Line =>
  user !== undefined && SLACK_USER_ID.test(user) ? [bold(' by '), person(user)] : [];

/** What the card's first lines say about its state (none for an ACTIVE finding left alone). */
function stateLines(state: FindingState | undefined): Line[] {
  if (state?.status === 'ACTIVE' && state.quarantined && !state.deleted) {
    const q = state.quarantined;
    return [
      [
        '🚧 ',
        bold('Quarantined'),
        ...byPerson(q.by),
        ...untilDay(q.until),
        ': a deny-all policy refuses every call made with the role; it is deleted (with a backup) then, unless someone clicks Still needed.',
      ],
      ...(state.snoozed ? [snoozeLine(state.snoozed)] : []),
    ];
  }
  const line = stateLine(state);
  return line ? [line] : [];
}

function stateLine(state: FindingState | undefined): Line | undefined {
  if (state?.deleted) {
    return [
      '🗑️ ',
      bold('Role deleted '),
      boldDay(state.deleted.at),
      ...byPerson(state.deleted.by),
      ': a backup is kept; Restore recreates it.',
    ];
  }
  if (state?.status === 'ACTIVE' && state.snoozed) return snoozeLine(state.snoozed);
  if (!state || state.status === 'ACTIVE') return undefined;
  const at: Line = state.at !== undefined ? [bold(' '), boldDay(state.at)] : [];
  if (state.status === 'RESOLVED') return ['✅ ', bold('Resolved'), ...at];
  const reason: Line = state.reason ? [': ', freeText(state.reason, 500)] : [];
  const until: Line = state.until ? [', until ', freeText(state.until, 40)] : [];
  return ['🗄️ ', bold('Archived'), ...at, ...byPerson(state.by), ...reason, ...until];
}

function snoozeLine(z: NonNullable<FindingState['snoozed']>): Line {
  const reason: Line = z.reason ? [': ', freeText(z.reason, 500)] : [];
  return ['💤 ', bold('Snoozed'), ...byPerson(z.by), ...untilDay(z.until), ...reason];
}

/** The Slack message for one finding. */
export function findingMessage(input: FindingView): SlackMessage {
  const parts = messageParts(input);
  return assemble(parts, input.now);
}

/**
 * A finding message in two halves: the blocks that depend on the time of rendering (the headline,
 * which may say "unused for N days", and the fields with the age) are built by `timed`, the rest once.
 */
interface MessageParts {
  timed: (now: Date) => { head: Headline; blocks: KnownBlock[] };
  /** Every block after the timed ones, in order. */
  rest: KnownBlock[];
  text: (head: Headline) => string;
}

function messageParts(input: FindingView): MessageParts {
  const { finding: f, severity, route, accountName } = input;
  const status: FindingStatus = input.state?.status ?? f.status;
  const state: FindingState | undefined = input.state ?? (f.status === 'ACTIVE' ? undefined : { status });
  const emoji = SEVERITY_EMOJI[severity.severity];

  const timed = (now: Date) => {
    const head = findingHeadline(f, now);
    const headline: Line = [`${emoji} `, ...head.pieces];
    const blocks: KnownBlock[] = [
      richLines([...stateLines(state), headline], FINDING_BLOCK_IDS.headline),
      {
        ...section(undefined, [
          field('Severity', severityText(severity)),
          field('Region', escapeMrkdwn(f.region)),
          field('Age', ageText(f.createdAt, now)),
          field('Status', statusText(status, state?.at)),
        ]),
        block_id: FINDING_BLOCK_IDS.fields,
      },
    ];
    return { head, blocks };
  };

  const rest: KnownBlock[] = [
    richLines(
      [
        accountLine(f.accountId, accountName),
        [bold('Resource type'), ': ', ident(f.resourceType, 80)],
        [bold('Resource'), ': ', ident(f.resourceArn, ARN_MAX)],
      ],
      FINDING_BLOCK_IDS.resource,
    ),
  ];
  const details = detailsBlock(f);
  if (details) rest.push(details);

  const ctx = [`Finding ${code(f.id, 80)}`, `Analyzer ${code(analyzerName(f.analyzerArn), 80)}`];
  const reason = route.reason ? `: ${escapeMrkdwn(truncate(route.reason, 300))}` : '';
  ctx.push(`Routed by rule ${code(route.rule, 80)}${reason}`);
  if (route.ownerEmail) ctx.push(`Owner ${escapeMrkdwn(truncate(route.ownerEmail, 120))}`);
  if (f.error) ctx.push(`⚠️ Analyzer error: ${code(f.error, 300)}`);
  if (f.managedBy) ctx.push(`🔒 Read-only: its analyzer is managed by ${code(f.managedBy, 120)}`);
  rest.push(context(ctx, FINDING_BLOCK_IDS.context));
  rest.push(
    actionsBlock(
      f,
      status,
      input.consoleUrl,
      state?.deleted,
      state?.snoozed,
      state?.quarantined,
      input.unusedRole,
    ),
  );

  const prefix = status === 'ACTIVE' ? '' : `${status === 'RESOLVED' ? '✅ Resolved' : '🗄️ Archived'}: `;
  const where = `(${escapeMrkdwn(f.accountId)}, ${escapeMrkdwn(f.region)})`;
  const text = (head: Headline) =>
    fitMessageText(`${prefix}[${severity.severity.toUpperCase()}] ${head.text} ${where}`);
  return { timed, rest, text };
}

function assemble(parts: MessageParts, now: Date): SlackMessage {
  const { head, blocks } = parts.timed(now);
  return { text: parts.text(head), blocks: capBlocks([...blocks, ...parts.rest]) };
}

function analyzerName(arn: string): string {
  const i = arn.indexOf(':analyzer/');
  return i >= 0 ? arn.slice(i + ':analyzer/'.length) : arn;
}

/** The time findingMessageKey renders at, so that nothing relative to `now` enters the key. */
const KEY_REFERENCE_TIME = new Date(0);

/**
 * A stable key of what a finding message shows: sha1 (first 16 hex) of the message JSON rendered at
 * a fixed reference time. Everything computed from `now` (the age field, "unused for N days") drops
 * out, so a day passing does not make a message look changed; any other visible change does.
 * Stored with every card: a change to what it hashes makes every card look changed once.
 */
export function findingMessageKey(input: FindingView): string {
  return keyOf(messageParts(input));
}

function keyOf(parts: MessageParts): string {
  return shortHash(JSON.stringify(assemble(parts, KEY_REFERENCE_TIME)), 16);
}

/**
 * findingMessage and findingMessageKey of one view, the blocks that do not depend on the time built
 * once for both.
 */
export function findingMessageWithKey(input: FindingView): { message: SlackMessage; fingerprint: string } {
  const parts = messageParts(input);
  return { message: assemble(parts, input.now), fingerprint: keyOf(parts) };
}

/**
 * The buttons of an ACTIVE finding shown outside its own message (the digest's overdue list): the
 * same action ids and values as on the finding's message, so the finding listeners handle the clicks.
 * `blockId` keeps block ids unique when several findings share one message.
 */
export function findingButtons(
  f: Pick<
    Finding,
    'id' | 'analyzerArn' | 'region' | 'findingType' | 'resourceType' | 'resourceArn' | 'accountId'
  >,
  consoleUrl: string,
  blockId: string,
  unusedRole?: UnusedRoleChoice,
): ActionsBlock {
  return {
    ...actionsBlock(f as Finding, 'ACTIVE', consoleUrl, undefined, undefined, undefined, unusedRole),
    block_id: blockId,
  };
}
