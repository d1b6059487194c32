// The one table of buttons per finding type, checked against the card builder for every row, and
// against its copy in docs/architecture.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findingMessage } from '../../blocks/finding.ts';
import { ACTION_IDS } from '../../blocks/ids.ts';
import {
  CARD_BUTTONS,
  type CardButton,
  type CardButtonRow,
  cardButtonsFor,
  fixFits,
  type UnusedRoleChoice,
} from '../../src/findings/card-actions.ts';
import { FINDING_TYPES, type Finding } from '../../src/findings/model.ts';
import { assessSeverity } from '../../src/findings/severity.ts';
import { F_NOW, makeFinding, makeRoute } from '../factories/finding.ts';

const ACTION_ID_OF: Record<CardButton, string> = {
  archive: ACTION_IDS.archive,
  'archive-similar': ACTION_IDS.archiveSimilar,
  rescan: ACTION_IDS.rescan,
  'generate-policy': ACTION_IDS.generatePolicy,
  'delete-role': ACTION_IDS.deleteRole,
  recommend: ACTION_IDS.recommend,
  snooze: ACTION_IDS.snooze,
  'block-public-access': ACTION_IDS.blockPublicAccess,
  'deactivate-key': ACTION_IDS.deactivateKey,
  'remove-password': ACTION_IDS.removePassword,
  'remove-external-access': ACTION_IDS.removeExternalAccess,
  'quarantine-role': ACTION_IDS.quarantineRole,
  'apply-recommendation': ACTION_IDS.applyRecommendation,
};

const LABEL_OF: Record<CardButton, string> = {
  archive: 'Archive',
  'archive-similar': 'Archive similar',
  rescan: 'Rescan',
  'generate-policy': 'Generate policy',
  'delete-role': 'Delete role',
  recommend: 'Show recommendation',
  snooze: 'Snooze',
  'block-public-access': 'Block public access',
  'deactivate-key': 'Deactivate key',
  'remove-password': 'Remove password',
  'remove-external-access': 'Remove external access',
  'quarantine-role': 'Quarantine role',
  'apply-recommendation': 'Apply recommendation',
};

/** A finding the row applies to: its type, resource type and public flag. */
function findingFor(row: CardButtonRow): Finding {
  const base = makeFinding({ findingType: row.type });
  const resourceType =
    row.resourceType ?? (row.type === 'ExternalAccess' ? 'AWS::KMS::Key' : base.resourceType);
  let details = base.details;
  if (details.kind === 'externalAccess') details = { ...details, isPublic: row.isPublic ?? false };
  return { ...base, resourceType, details };
}

function cardButtons(f: Finding, unusedRole?: UnusedRoleChoice): { ids: string[]; labels: string[] } {
  const m = findingMessage({
    finding: f,
    severity: assessSeverity(f),
    route: makeRoute(),
    consoleUrl: 'https://console.aws.amazon.com',
    now: F_NOW,
    ...(unusedRole ? { unusedRole } : {}),
  });
  const actions = m.blocks.find((b) => b.type === 'actions');
  if (actions?.type !== 'actions') throw new Error('no actions block');
  const buttons = actions.elements.filter((e) => e.type === 'button' && e.url === undefined);
  return {
    ids: buttons.map((e) => ('action_id' in e ? String(e.action_id) : '')),
    labels: buttons.map((e) => (e.type === 'button' ? e.text.text : '')),
  };
}

describe('buttons per finding type', () => {
  it.each(
    CARD_BUTTONS.map((row) => [row.type, row.resourceType ?? 'any', row.isPublic ?? 'any', row] as const),
  )('%s on %s (public: %s): the card shows exactly the row’s buttons', (_t, _r, _p, row) => {
    const f = findingFor(row);
    // With roles.unusedRole `both`, every button of the row is drawn.
    expect(cardButtonsFor(f, 'both')).toEqual(row.buttons);
    const shown = cardButtons(f, 'both');
    expect(shown.ids).toEqual(row.buttons.map((b) => ACTION_ID_OF[b]));
    expect(shown.labels).toEqual(row.buttons.map((b) => LABEL_OF[b]));
  });

  it('offers an unused role Quarantine role, Delete role or both, as roles.unusedRole says (quarantine by default)', () => {
    const f = makeFinding({ findingType: 'UnusedIAMRole', resourceType: 'AWS::IAM::Role' });
    const labels = (choice?: UnusedRoleChoice) =>
      cardButtons(f, choice).labels.filter((l) => l === 'Quarantine role' || l === 'Delete role');
    expect(labels()).toEqual(['Quarantine role']);
    expect(labels('quarantine')).toEqual(['Quarantine role']);
    expect(labels('delete')).toEqual(['Delete role']);
    expect(labels('both')).toEqual(['Quarantine role', 'Delete role']);
    expect(fixFits('quarantine-role', f)).toBe(true);
    expect(fixFits('quarantine-role', f, 'delete')).toBe(false);
  });

  it('lets Apply recommendation run on unused permissions only (its button is on the recommendation)', () => {
    const f = makeFinding({ findingType: 'UnusedPermission', resourceType: 'AWS::IAM::Role' });
    expect(cardButtons(f).ids).not.toContain(ACTION_IDS.applyRecommendation);
    expect(fixFits('apply-recommendation', f)).toBe(true);
    expect(fixFits('apply-recommendation', makeFinding({ findingType: 'UnusedIAMRole' }))).toBe(false);
  });

  it('has a row for every finding type', () => {
    for (const type of FINDING_TYPES) expect(CARD_BUTTONS.some((r) => r.type === type)).toBe(true);
  });

  it('never offers Generate policy on unused access key or password cards', () => {
    for (const type of ['UnusedIAMUserAccessKey', 'UnusedIAMUserPassword'] as const) {
      const f = makeFinding({ findingType: type });
      expect(cardButtons(f).ids).not.toContain(ACTION_IDS.generatePolicy);
    }
  });

  it('puts a confirm dialog on every fix button', () => {
    const f = makeFinding({ findingType: 'UnusedIAMUserAccessKey' });
    const m = findingMessage({
      finding: f,
      severity: assessSeverity(f),
      route: makeRoute(),
      consoleUrl: 'https://console.aws.amazon.com',
      now: F_NOW,
    });
    const actions = m.blocks.find((b) => b.type === 'actions');
    const fix =
      actions?.type === 'actions'
        ? actions.elements.find((e) => 'action_id' in e && e.action_id === ACTION_IDS.deactivateKey)
        : undefined;
    expect(fix && 'confirm' in fix ? fix.confirm?.confirm?.text : undefined).toBe('Deactivate key');
    expect(fix && 'confirm' in fix ? fix.confirm?.text.text : '').toContain('AKIAIOSFODNN7EXAMPLE');
  });

  it('lets a fix run only where its row offers it', () => {
    const bucket = makeFinding();
    expect(fixFits('block-public-access', bucket)).toBe(true);
    expect(
      fixFits('block-public-access', {
        ...bucket,
        details: { kind: 'externalAccess', isPublic: false, grants: [] },
      }),
    ).toBe(false);
    expect(fixFits('deactivate-key', bucket)).toBe(false);
    expect(fixFits('deactivate-key', makeFinding({ findingType: 'UnusedIAMUserAccessKey' }))).toBe(true);
  });

  it('is the table docs/architecture.md shows', () => {
    const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    const start = doc.indexOf('### Buttons per finding type');
    const section = doc.slice(start, doc.indexOf('\n\n', doc.indexOf('| Finding type |', start)));
    const rows = section
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    expect(rows).toEqual(
      CARD_BUTTONS.map((r) => [
        `\`${r.type}\``,
        r.resourceType ? `\`${r.resourceType}\`` : 'any',
        r.isPublic === undefined ? 'any' : r.isPublic ? 'public' : 'not public',
        r.buttons.map((b) => LABEL_OF[b]).join(', '),
        r.later?.map((b) => LABEL_OF[b]).join(', ') ?? '',
      ]),
    );
  });
});
