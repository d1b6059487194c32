import {
  fixNothingDoneNote,
  fixReceipt,
  type InactiveKey,
  keyDeletedReceipt,
  keyDeletionOffer,
  passwordDm,
  quarantineKeptNote,
  undoButton,
  undoReceipt,
} from '../../../blocks/fixes.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION, USER } from './inputs.ts';

const UNDO = {
  backupKey: 'ap:fix-backup:block-public-access:f-1:2025-03-01T10:00:00.000Z',
  findingId: 'f-1',
  analyzerArn: 'arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/org-external',
  region: 'eu-west-1',
};

const BEFORE = JSON.stringify({ BlockPublicAcls: false, IgnorePublicAcls: false }, null, 2);
const AFTER = JSON.stringify(
  { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
  null,
  2,
);

const KEY: InactiveKey = {
  keyId: 'AKIAIOSFODNN7EXAMPLE',
  userName: `legacy_etl*${INJECTION}`,
  accountId: '333333333333',
  deactivatedBy: USER,
  deactivatedAt: '2025-03-01T10:00:00.000Z',
  ref: { ...UNDO, backupKey: 'ap:fix-backup:deactivate-key:f-2:2025-03-01T10:00:00.000Z' },
};

export const fixCases: GoldenCases = {
  undoButton: {
    'block-public-access': () => undoButton('block-public-access', UNDO),
  },
  fixReceipt: {
    'quarantine-with-still-needed': () =>
      fixReceipt({
        kind: 'quarantine-role',
        userId: USER,
        target: 'role ci-deployer',
        done: ['saved what was there', 'PutRolePolicy access-patrol-quarantine', 'TagRole'],
        notDone: [],
        notes: ['Quarantined until 2025-03-31.'],
        undo: { ...UNDO, backupKey: 'ap:backup:fix:quarantine-role:f-1:2025-03-01T10:00:00.000Z' },
      }),
    'block-public-access-with-undo': () =>
      fixReceipt({
        kind: 'block-public-access',
        userId: USER,
        target: 'bucket logs-prod',
        done: ['saved what was there', 'turned on all four settings', 'rescan requested'],
        notDone: [],
        before: BEFORE,
        after: AFTER,
        notes: [
          "Account 222222222222 has no account-level Block Public Access: the bucket's own settings are what blocks public access now, and Undo makes it public again.",
        ],
        undo: UNDO,
      }),
    'half-way-hostile-target': () =>
      fixReceipt({
        kind: 'deactivate-key',
        userId: USER,
        target: `access key AKIAIOSFODNN7EXAMPLE of user ${INJECTION}`,
        done: ['made the key inactive'],
        notDone: ['rescan: ThrottlingException'],
      }),
  },
  quarantineKeptNote: {
    'used-during-quarantine-hostile-role': () =>
      quarantineKeptNote({
        roleName: `ci-${INJECTION}`,
        until: '2025-03-31',
        reason: 'the role was used on 2025-03-20, during the quarantine (its calls were refused).',
      }),
  },
  undoReceipt: {
    'still-needed': () =>
      undoReceipt({
        kind: 'quarantine-role',
        userId: USER,
        target: 'role ci-deployer',
        done: ['DeleteRolePolicy access-patrol-quarantine and UntagRole access-patrol:quarantine'],
        notDone: [],
      }),
    'remove-password': () =>
      undoReceipt({
        kind: 'remove-password',
        userId: USER,
        target: 'console password of user bob',
        done: ['created a login profile that must be reset at first sign-in', 'sent the password by DM'],
        notDone: [],
      }),
    'stopped-half-way': () =>
      undoReceipt({
        kind: 'apply-recommendation',
        userId: USER,
        target: 'role app-backend',
        done: ['attached arn:aws:iam::111111111111:policy/app-backend-broad again'],
        notDone: [
          `the rest stopped at: NoSuchEntity: Policy arn:aws:iam::111111111111:policy/${INJECTION} does not exist or is not attachable.`,
        ],
        before:
          '{\n  "attached policies": ["arn:aws:iam::111111111111:policy/app-backend-recommended-1-0a1b2c3d"]\n}',
        after: '{\n  "attached policies": ["arn:aws:iam::111111111111:policy/app-backend-broad"]\n}',
        notes: [
          'After shows what AWS has now. The backup is kept: Undo again puts back the rest once that is fixed.',
        ],
        stopped: { ...UNDO, backupKey: 'ap:fix-backup:apply-recommendation:f-1:2025-03-01T10:00:00.000Z' },
      }),
  },
  fixNothingDoneNote: {
    'already-fixed': () =>
      fixNothingDoneNote({ kind: 'deactivate-key', reason: 'the key is already inactive' }),
    'undo-after-a-change': () =>
      fixNothingDoneNote({
        kind: 'block-public-access',
        reason: `someone changed it since: ${INJECTION}`,
        undo: true,
      }),
    'delete-key-too-early': () =>
      fixNothingDoneNote({
        kind: 'deactivate-key',
        asked: 'delete the key',
        reason: 'access key AKIAIOSFODNN7EXAMPLE of user bob has been inactive only since 2025-03-01',
      }),
  },
  keyDeletionOffer: {
    'after-30-days': () => keyDeletionOffer(KEY, 30),
  },
  keyDeletedReceipt: {
    deleted: () => keyDeletedReceipt(KEY, USER),
  },
  passwordDm: {
    // A fixed stand-in password: the fixture shows where it goes, never a real one.
    'new-password': () =>
      passwordDm({ userName: 'bob', accountId: '111111111111', password: 'Xy7-example-Pw!' }),
  },
};
