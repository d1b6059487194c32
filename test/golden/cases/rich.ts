import { bold, freeText, ident, person, richLines } from '../../../blocks/rich.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION, LONG, USER } from './inputs.ts';

export const richCases: GoldenCases = {
  richLines: {
    'identifiers-exact-with-labels': () =>
      richLines(
        [
          [bold('Actions'), ': ', ident('s3:*'), ', ', ident('s3:Get*Object_`v2`~')],
          [
            bold('Principal'),
            ': ',
            ident('arn:aws:iam::111111111111:role/<!channel>'),
            ' asked by ',
            person(USER),
          ],
          [bold('Condition'), ': ', ident('aws:PrincipalTag/team = *_ops_*\n\u200Bx')],
        ],
        'rich_block',
      ),
    'hostile-free-text-and-long-identifier': () =>
      richLines([[freeText(INJECTION), ' ', ident(LONG, 200), ' ', ident('')]]),
    empty: () => richLines([]),
  },
};
