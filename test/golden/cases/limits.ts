import { verbatimJson } from '../../../blocks/escape.ts';
import {
  codeSections,
  context,
  preformattedBlocks,
  preformattedMessages,
  section,
} from '../../../blocks/limits.ts';
import type { GoldenCases } from '../golden.ts';
import { LONG } from './inputs.ts';

export const limitCases: GoldenCases = {
  section: {
    text: () => section('Some *mrkdwn*'),
    'long-text-and-too-many-fields': () =>
      section(
        LONG,
        Array.from({ length: 12 }, (_, i) => (i === 0 ? LONG : `field ${i}`)),
      ),
  },
  context: {
    'with-block-id': () => context(['one', 'two'], 'ctx'),
    'long-elements': () => context([LONG, ...Array.from({ length: 11 }, (_, i) => `element ${i}`)]),
  },
  codeSections: {
    'short-lines-one-block': () => codeSections(['{', '  "a": 1', '}']),
    'long-line-cut-across-blocks': () => codeSections([LONG, 'tail'], 1000),
    empty: () => codeSections([]),
  },
  preformattedBlocks: {
    'exact-json-with-wildcards': () =>
      preformattedBlocks(verbatimJson({ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] })),
    'long-text-split-at-newlines': () => preformattedBlocks(`${'line of a policy\n'.repeat(300)}end`, 1000),
  },
  preformattedMessages: {
    'two-parts': () =>
      preformattedMessages(`${'"s3:GetObject",\n'.repeat(900)}end`, (part, parts) => ({
        text: `Backup, part ${part} of ${parts}`,
        blocks: [section(`*Backup* (part ${part} of ${parts})`)],
      })),
  },
};
