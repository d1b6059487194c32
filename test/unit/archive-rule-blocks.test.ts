// Archive-rule messages show AWS's strings exactly and inertly: rule and analyzer names, filter keys
// and values and AWS's error messages go into rich text (shown as written, never parsed), so a `*`
// in an ARN, a backtick or `<!channel>` in a name can neither format nor mention anything.
import { describe, expect, it } from 'vitest';
import {
  archiveRuleBlockedModal,
  archiveRuleDeletedNote,
  archiveRuleModal,
  archiveRuleReceipt,
  archiveRuleRefusedNote,
  archiveRulesReply,
} from '../../blocks/archive-rules.ts';
import { identifierText } from '../../blocks/rich.ts';

const RULE = 'rule*with_`ticks`';
const ANALYZER = '<!channel> *org*-`external`';
const VALUE = 'arn:aws:iam::999988887777:role/*_deploy_`x`';
const KEY = 'condition.aws:SourceVpc';
const ERROR = 'ValidationException: <https://evil.example|click here> *now* <@U123ABC>';
const HOSTILE = [RULE, ANALYZER, VALUE, ERROR];
const analyzer = {
  arn: 'arn:aws:access-analyzer:us-east-1:1:analyzer/x',
  name: ANALYZER,
  region: 'us-east-1',
};
const filter = { [KEY]: { eq: [VALUE] }, resource: { contains: [VALUE] } };

/** Every text a builder hands Slack as mrkdwn, and every code-styled rich text element. */
function texts(v: unknown): { mrkdwn: string[]; code: string[]; rich: string[] } {
  const out = { mrkdwn: [] as string[], code: [] as string[], rich: [] as string[] };
  const walk = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if (o.type === 'mrkdwn' && typeof o.text === 'string') out.mrkdwn.push(o.text);
      if (o.type === 'text' && typeof o.text === 'string' && !('emoji' in o)) {
        out.rich.push(o.text);
        if ((o.style as { code?: boolean } | undefined)?.code) out.code.push(o.text);
      }
      Object.values(o).forEach(walk);
    }
  };
  walk(v);
  return out;
}

const built: [string, unknown, string[]][] = [
  [
    'the Archive similar modal',
    archiveRuleModal({
      meta: { f: 'f-1' },
      resource: { type: 'AWS::IAM::Role', arn: VALUE },
      filter,
      left: [],
      count: 2,
      analyzers: [analyzer],
      defaultName: 'similar-x',
    }),
    [VALUE, KEY, ANALYZER],
  ],
  [
    'the receipt',
    archiveRuleReceipt({ userId: 'U0ALICE01', ruleName: RULE, filter, analyzers: [analyzer], matched: 2 }),
    [RULE, VALUE, KEY, ANALYZER],
  ],
  [
    '/access rules',
    archiveRulesReply({
      canDelete: true,
      analyzers: [
        { analyzer, rules: [{ ruleName: RULE, filter, active: 1, archived: 0 }] },
        { analyzer: { ...analyzer, arn: `${analyzer.arn}2` }, rules: [], error: ERROR },
      ],
    }),
    [RULE, VALUE, KEY, ANALYZER],
  ],
  [
    'the deleted note',
    archiveRuleDeletedNote({ userId: 'U0ALICE01', ruleName: RULE, analyzer }),
    [RULE, ANALYZER],
  ],
  [
    'the already-gone note',
    archiveRuleDeletedNote({ userId: 'U0ALICE01', ruleName: RULE, analyzer, alreadyGone: true }),
    [RULE, ANALYZER],
  ],
  ['the refusal', archiveRuleRefusedNote({ what: `archive rule ${RULE}`, why: ERROR }), []],
  ['the blocked modal', archiveRuleBlockedModal(ERROR), []],
];

describe('archive-rule messages and AWS strings', () => {
  it.each(built)('%s puts no AWS string into mrkdwn', (_what, message) => {
    const { mrkdwn } = texts((message as { blocks: unknown }).blocks);
    for (const t of mrkdwn) {
      for (const h of HOSTILE) expect(t).not.toContain(h);
      expect(t).not.toMatch(/<!channel>|<@U123ABC>|<https:\/\/evil/);
    }
  });

  it.each(built)('%s shows each identifier exactly, as code-styled rich text', (_what, message, ids) => {
    const { code } = texts((message as { blocks: unknown }).blocks);
    for (const id of ids) expect(code).toContain(identifierText(id, 1200));
  });

  it.each(built.slice(5))('%s shows the words AWS gave as written', (_what, message) => {
    const { rich } = texts((message as { blocks: unknown }).blocks);
    expect(rich.join('')).toContain(ERROR);
  });
});
