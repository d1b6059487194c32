import {
  auditReply,
  findingSummaryReply,
  findingsListReply,
  ownersReply,
  statusReply,
} from '../../../blocks/command-replies.ts';
import type { StoredAuditEntry } from '../../../src/store/audit.ts';
import type { FindingState, ListedFinding } from '../../../src/store/findings.ts';
import { F_EXTERNAL_ANALYZER, makeFindingState } from '../../factories/finding.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION, LONG, USER, WORKSPACE } from './inputs.ts';

const state = (overrides: Partial<FindingState> = {}) =>
  ({
    ...makeFindingState(),
    updatedAt: '2025-02-26T09:30:00.000Z',
    createdAt: '2025-02-26T09:30:00.000Z',
    firstSeen: '2025-02-26T09:35:00.000Z',
    channel: 'C0PAY0001',
    ts: '1700000001.000100',
    routeChannel: '#team-payments',
    ...overrides,
  }) as FindingState;

const entry = (i: number, overrides: Partial<StoredAuditEntry> = {}): StoredAuditEntry =>
  ({
    id: `170000000${i}000-0`,
    at: `2025-03-01T1${i}:00:00.000Z`,
    actor: USER,
    action: 'archive',
    outcome: 'succeeded',
    findingId: '0f1e2d3c-0000-4000-8000-000000000001',
    detail: 'approved vendor share',
    ...overrides,
  }) as StoredAuditEntry;

const listed = (i: number, overrides: Partial<ListedFinding> = {}): ListedFinding =>
  ({
    id: `0f1e2d3c-0000-4000-8000-00000000000${i}`,
    status: 'ACTIVE',
    findingType: 'ExternalAccess',
    severity: i === 0 ? 'critical' : 'high',
    accountId: '222222222222',
    region: 'eu-west-1',
    resourceArn: `arn:aws:s3:::payments-exports-${i}`,
    createdAt: '2025-02-26T09:30:00.000Z',
    channel: 'C0PAY0001',
    ts: `170000000${i}.000100`,
    routeChannel: '#team-payments',
    ...overrides,
  }) as ListedFinding;

export const commandReplyCases: GoldenCases = {
  findingSummaryReply: {
    active: () => findingSummaryReply('0f1e2d3c-0000-4000-8000-000000000001', state()),
    'archived-hostile-reason': () =>
      findingSummaryReply(
        '0f1e2d3c-0000-4000-8000-000000000001',
        state({
          status: 'ARCHIVED',
          archivedBy: USER,
          archiveReason: `${INJECTION} ${LONG}`,
          archiveUntil: '2025-06-01',
          channel: '#team-payments',
        }),
      ),
    'unknown-id': () => findingSummaryReply(INJECTION, null),
  },
  auditReply: {
    'entries-with-scope': () =>
      auditReply(
        [
          entry(1),
          entry(2, { actor: 'system', action: 'resolve', outcome: 'succeeded', detail: undefined }),
          entry(3, {
            action: 'delete-role',
            outcome: 'failed',
            detail: undefined,
            error: `DeleteConflict: ${INJECTION}`,
          }),
        ],
        'the findings of your channels',
      ),
    'one-entry-singular': () => auditReply([entry(1)]),
    empty: () => auditReply([]),
  },
  statusReply: {
    'last-scan-with-a-failure': () =>
      statusReply({
        lastScan: {
          scanId: 'scan-1',
          at: '2025-03-01T11:55:00.000Z',
          analyzers: [
            {
              analyzerArn: F_EXTERNAL_ANALYZER,
              name: 'org-external',
              region: 'eu-west-1',
              ok: true,
              active: 12,
            },
            {
              name: 'org-internal',
              region: 'us-east-1',
              ok: false,
              active: 0,
              error: `ThrottlingException: ${INJECTION}`,
              failed: true,
            },
          ],
        },
        queues: {
          scan: { waiting: 0, active: 1, delayed: 0, failed: 0 },
          deliver: { waiting: 3, active: 0, delayed: 1, failed: 2 },
        },
      }),
    'no-scan-no-queues': () => statusReply({ lastScan: null, queues: {} }),
  },
  findingsListReply: {
    'first-page-with-links': () =>
      findingsListReply({
        items: [
          listed(0),
          listed(1),
          listed(2, { channel: '#team-payments' }),
          listed(3, { channel: undefined, ts: undefined }),
        ],
        page: 1,
        total: 24,
        truncated: false,
        filterText: '`--type ExternalAccess`',
        workspaceUrl: WORKSPACE,
      }),
    'last-page-truncated-search': () =>
      findingsListReply({
        items: [listed(1, { resourceArn: `arn:aws:s3:::${INJECTION}-${LONG}` })],
        page: 500,
        total: 5000,
        truncated: true,
        filterText: INJECTION,
      }),
    'nothing-matches': () =>
      findingsListReply({
        items: [],
        page: 1,
        total: 0,
        truncated: false,
        filterText: '`--severity critical`',
      }),
  },
  ownersReply: {
    'rules-verbatim': () =>
      ownersReply({
        ok: true,
        text: 'rule team-data: tag team=data → #team-data\ntag owner=`<!channel>` *x*\narn:aws:s3:::logs-prod → #team-data (rule team-data)',
      }),
    'long-explanation-split': () => ownersReply({ ok: true, text: `${LONG}\n${LONG}\nlast line` }),
    error: () => ownersReply({ ok: false, error: `No finding ${INJECTION} is known` }),
  },
};
