import {
  acceptedNote,
  actionFailedNote,
  alreadyRequestedNote,
  archivedReceipt,
  notAvailableNote,
  notShownNote,
  readOnlyNote,
  refusedNote,
  rescanReceipt,
  snoozedReceipt,
  staleNote,
  unarchivedReceipt,
  unavailableNote,
  unknownFindingNote,
  unsnoozedReceipt,
} from '../../../blocks/receipts.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION, LONG, USER } from './inputs.ts';

export const receiptCases: GoldenCases = {
  archivedReceipt: {
    'with-expiry': () =>
      archivedReceipt({ userId: USER, reason: 'approved vendor share, SEC-42', until: '2025-06-01' }),
    'hostile-long-reason': () => archivedReceipt({ userId: USER, reason: `${INJECTION} ${LONG}` }),
  },
  unarchivedReceipt: {
    'by-a-person': () => unarchivedReceipt({ userId: USER }),
    'archive-expired': () => unarchivedReceipt({ userId: USER, expired: '2025-06-01' }),
  },
  rescanReceipt: {
    requested: () => rescanReceipt({ userId: USER, outcome: 'requested' }),
    resolved: () => rescanReceipt({ userId: USER, outcome: 'resolved' }),
    'still-active': () => rescanReceipt({ userId: USER, outcome: 'still-active' }),
  },
  staleNote: {
    'already-archived': () => staleNote({ status: 'ARCHIVED', action: 'archive' }),
  },
  actionFailedNote: {
    'aws-error-escaped': () =>
      actionFailedNote({ action: 'archive', error: `AccessDeniedException: ${INJECTION}` }),
    'long-error': () => actionFailedNote({ action: 'rescan', error: LONG }),
  },
  notShownNote: {
    'not-in-channel': () => notShownNote({ action: 'archive', problem: 'not_in_channel' }),
  },
  refusedNote: {
    'ask-someone': () =>
      refusedNote({
        action: 'archive',
        who: {
          admins: { users: ['U0BOB0001'], userGroups: [] },
          listed: { users: [], userGroups: [] },
          channel: '#team-data',
          ruleOwners: { users: ['U0CAROL01'], userGroups: [] },
        },
      }),
    'delete-role-admins-only': () =>
      refusedNote({
        action: 'delete-role',
        who: {
          admins: { users: ['U0ADMIN01'], userGroups: ['S0SECOPS1'] },
          listed: { users: [], userGroups: [] },
          ruleOwners: { users: [], userGroups: [] },
        },
      }),
  },
  unknownFindingNote: {
    'hostile-id': () => unknownFindingNote(INJECTION),
  },
  acceptedNote: {
    plain: () => acceptedNote('Archiving the finding…'),
  },
  alreadyRequestedNote: {
    'by-someone': () => alreadyRequestedNote({ userId: USER, at: '2025-03-01T11:59:00.000Z' }),
    'nobody-known': () => alreadyRequestedNote({}),
  },
  unavailableNote: {
    plain: () => unavailableNote('Policy generation'),
  },
  notAvailableNote: {
    plain: () => notAvailableNote('Delete role'),
  },
  snoozedReceipt: {
    'one-day': () =>
      snoozedReceipt({ userId: USER, days: 1, until: '2025-03-02T12:00:00.000Z', reason: 'fix in progress' }),
    'hostile-long-reason': () =>
      snoozedReceipt({
        userId: USER,
        days: 30,
        until: '2025-03-31T12:00:00.000Z',
        reason: `${INJECTION} ${LONG}`,
      }),
  },
  unsnoozedReceipt: {
    'by-a-person': () => unsnoozedReceipt({ userId: USER }),
    'snooze-ended': () => unsnoozedReceipt({ userId: USER, ended: '2025-03-08' }),
  },
  readOnlyNote: {
    'service-linked': () => readOnlyNote({ action: 'archive', managedBy: 'securityhubv2.amazonaws.com' }),
  },
};
