import { codeSections, context, section } from '../../../blocks/limits.ts';
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
};
