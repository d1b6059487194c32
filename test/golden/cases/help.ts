import { commandErrorMessage, helpMessage } from '../../../blocks/help.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION, LONG } from './inputs.ts';

export const helpCases: GoldenCases = {
  helpMessage: {
    overview: () => helpMessage(),
    archive: () => helpMessage('archive'),
    'hostile-topic-falls-back': () => helpMessage(INJECTION),
  },
  commandErrorMessage: {
    'verb-usage': () =>
      commandErrorMessage({ verb: 'archive', error: 'archive needs a reason: `--reason "…"`' }),
    'unknown-command': () => commandErrorMessage({ error: `unknown command \`${INJECTION}\`` }),
    'long-error': () => commandErrorMessage({ verb: 'show', error: LONG }),
  },
};
