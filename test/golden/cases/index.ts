// Every golden case, by builder. A builder's cases live in the file named after its blocks/ module.
import type { GoldenCases } from '../golden.ts';
import { agingCases } from './aging.ts';
import { archiveRuleCases } from './archive-rules.ts';
import { commandReplyCases } from './command-replies.ts';
import { deleteRoleCases } from './delete-role.ts';
import { digestCases } from './digest.ts';
import { findingCases } from './finding.ts';
import { fixCases } from './fixes.ts';
import { helpCases } from './help.ts';
import { homeCases } from './home.ts';
import { limitCases } from './limits.ts';
import { modalCases } from './modals.ts';
import { noticeCases } from './notice.ts';
import { policyCases } from './policy.ts';
import { receiptCases } from './receipts.ts';
import { recommendationCases } from './recommendation.ts';
import { richCases } from './rich.ts';
import { summaryCases } from './summary.ts';

const groups: GoldenCases[] = [
  agingCases,
  archiveRuleCases,
  commandReplyCases,
  deleteRoleCases,
  digestCases,
  fixCases,
  findingCases,
  helpCases,
  homeCases,
  limitCases,
  modalCases,
  noticeCases,
  policyCases,
  receiptCases,
  recommendationCases,
  richCases,
  summaryCases,
];

export const GOLDEN_CASES: GoldenCases = {};
for (const group of groups) {
  for (const [builder, cases] of Object.entries(group)) {
    if (GOLDEN_CASES[builder]) throw new Error(`golden cases for ${builder} are defined twice`);
    GOLDEN_CASES[builder] = cases;
  }
}

/**
 * Exported functions of blocks/ that build no message, view or block (escaping, limits, parsing,
 * text helpers): they are tested on their own, not by golden fixtures.
 */
export const NOT_BUILDERS = new Set([
  'decodeRuleRef',
  'encodeRuleRef',
  'filterLines',
  'parseArchiveRuleMetadata',
  'agingPhrase',
  'applicable',
  'words',
  'unusedServiceLines',
  'lineSize',
  'person',
  'identifierText',
  'identifierList',
  'ident',
  'freeText',
  'fitLines',
  'exactIdentifier',
  'bold',
  'assertWithinLimits',
  'capBlocks',
  'channelRef',
  'clean',
  'code',
  'codeBlockLines',
  'cutEscaped',
  'decodeFindingRef',
  'decodeUndoRef',
  'preformattedText',
  'verbatimJson',
  'verbatimText',
  'encodeFindingRef',
  'escapeMrkdwn',
  'findingConsoleUrl',
  'findingHeadline',
  'findingMessageKey',
  'findingMessageWithKey',
  'fitButtonText',
  'fitButtonValue',
  'fitContext',
  'fitFields',
  'fitHeader',
  'fitMessageText',
  'fitPrivateMetadata',
  'fitSection',
  'isVerb',
  'limitViolations',
  'link',
  'listWithMore',
  'messageText',
  'messageUrl',
  'parseArchiveMetadata',
  'plain',
  'renderError',
  'renderText',
  'resourceName',
  'trend',
  'truncate',
  'unescapeEntities',
  'userRef',
  'validationLines',
  'worstFirst',
  'zoneWords',
]);
