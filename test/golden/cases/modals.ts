import { LIMITS, section } from '../../../blocks/limits.ts';
import { archiveModal, formModal, snoozeModal } from '../../../blocks/modals.ts';
import { F_EXTERNAL_ANALYZER, F_NOW } from '../../factories/finding.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION, LONG } from './inputs.ts';

const meta = {
  f: '0f1e2d3c-0000-4000-8000-000000000001',
  a: F_EXTERNAL_ANALYZER,
  r: 'eu-west-1',
  c: 'C0PAY0001',
  t: '1700000001.000100',
};

export const modalCases: GoldenCases = {
  formModal: {
    minimal: () =>
      formModal({
        callbackId: 'example_modal',
        meta: { f: 'id-1' },
        title: 'Example',
        submit: 'Go',
        blocks: [section('Body')],
      }),
  },
  archiveModal: {
    typical: () => archiveModal({ meta, headline: 'S3 bucket `logs-prod` is public', now: F_NOW }),
    // The id is as long as the button the modal opens from can carry (its whole value is 2000).
    'long-hostile-headline': () =>
      archiveModal({
        meta: { ...meta, f: LONG.slice(0, LIMITS.buttonValue) },
        headline: `${INJECTION} ${LONG}`,
        now: F_NOW,
      }),
  },
  snoozeModal: {
    typical: () => snoozeModal({ meta, headline: 'Role `ci-deployer` unused for 97 days' }),
    'long-hostile-headline': () => snoozeModal({ meta, headline: `${INJECTION} ${LONG}` }),
  },
};
