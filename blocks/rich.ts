// Identifiers shown exactly: rich text blocks whose AWS identifiers (ARNs, actions, principals,
// conditions, key ids, policy names) are code-styled `text` elements. Slack shows a rich text element
// as written: no mrkdwn, no entities, no mentions, so `*`, `_`, `~`, backticks, `&`, `<` and
// `<!channel>` read exactly as AWS has them, where a mrkdwn code span must replace a backtick.
// Our own words are text elements too (bold where a label needs it); a person is a `user` element,
// a console link a `link` element. Lengths follow blocks/limits.ts: every element within
// LIMITS.richTextElement, an identifier within its own cap (cut with an ellipsis).
import type { RichTextBlock, RichTextElement, RichTextSection } from '@slack/types';
import { clean, exactIdentifier, SLACK_USER_ID } from './escape.ts';
import { ELLIPSIS, LIMITS } from './limits.ts';

/** One piece of a line of rich text. */
export type Piece =
  /** Our own words, as written. */
  | { words: string; bold?: boolean }
  /** An identifier from AWS: code-styled, shown exactly (`exactIdentifier`), cut at `max`. */
  | { id: string; max?: number; bold?: boolean }
  /** Free text from AWS or a person (an error message, a reason): one line, invisible characters removed. */
  | { text: string; max?: number; bold?: boolean }
  /** A person: a mention for a Slack user id, their name or 'system' as words otherwise. */
  | { user: string }
  /** A link this bot builds (https only); anything else is shown as its label. */
  | { url: string; label: string };

/** A line of pieces; a plain string is our own words. */
export type Line = readonly (Piece | string)[];

export const words = (s: string, bold = false): Piece => (bold ? { words: s, bold } : { words: s });
export const bold = (s: string): Piece => ({ words: s, bold: true });
export const ident = (s: string, max?: number): Piece => (max === undefined ? { id: s } : { id: s, max });
export const freeText = (s: string, max?: number, bold = false): Piece => ({
  text: s,
  ...(max === undefined ? {} : { max }),
  ...(bold ? { bold } : {}),
});
export const person = (user: string): Piece => ({ user });

/** Default cap of one identifier: the longest ARN AWS allows is 2048 characters, but a line need not show it all. */
const ID_MAX = 1000;
const SAFE_URL = /^https:\/\/[^\s<>|"`]+$/;

/** Cut `s` to `max` characters with an ellipsis, never inside a surrogate pair or a `\uXXXX` escape. */
function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = Math.max(0, max - 1);
  const esc = s.lastIndexOf('\\u', end - 1);
  if (esc !== -1 && esc + 6 > end && /^\\u[0-9a-f]{4}/.test(s.slice(esc, esc + 6))) end = esc;
  const last = s.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return s.slice(0, end) + ELLIPSIS;
}

/** The shown text of an identifier (what a reader sees of it). */
export function identifierText(s: string, max: number = ID_MAX): string {
  const t = cut(exactIdentifier(s), Math.min(max, LIMITS.richTextElement));
  return t === '' ? '(empty)' : t;
}

function element(p: Piece | string): RichTextElement {
  if (typeof p === 'string') return { type: 'text', text: p };
  if ('words' in p)
    return p.bold ? { type: 'text', text: p.words, style: { bold: true } } : { type: 'text', text: p.words };
  if ('id' in p) {
    const text = identifierText(p.id, p.max);
    if (text === '(empty)') return { type: 'text', text };
    return { type: 'text', text, style: p.bold ? { code: true, bold: true } : { code: true } };
  }
  if ('text' in p) {
    const text = cut(clean(p.text), Math.min(p.max ?? LIMITS.richTextElement, LIMITS.richTextElement));
    return p.bold ? { type: 'text', text, style: { bold: true } } : { type: 'text', text };
  }
  if ('user' in p) {
    return SLACK_USER_ID.test(p.user)
      ? { type: 'user', user_id: p.user }
      : { type: 'text', text: cut(clean(p.user), 200) };
  }
  return SAFE_URL.test(p.url) && p.url.length <= LIMITS.buttonUrl
    ? { type: 'link', url: p.url, text: cut(clean(p.label), 200) }
    : { type: 'text', text: cut(clean(p.label), 200) };
}

const sameStyle = (a: RichTextElement, b: RichTextElement) =>
  a.type === 'text' && b.type === 'text' && JSON.stringify(a.style) === JSON.stringify(b.style);

/** The elements of lines: adjacent texts of one style merged (within the element limit), lines joined by `\n`. */
function elements(lines: readonly Line[]): RichTextElement[] {
  const out: RichTextElement[] = [];
  const push = (e: RichTextElement) => {
    if (e.type === 'text' && e.text === '') return;
    const prev = out.at(-1);
    if (
      prev &&
      prev.type === 'text' &&
      e.type === 'text' &&
      sameStyle(prev, e) &&
      prev.style?.code !== true &&
      prev.text.length + e.text.length <= LIMITS.richTextElement
    ) {
      prev.text += e.text;
      return;
    }
    out.push(e.type === 'text' ? { ...e } : e);
  };
  lines.forEach((line, i) => {
    if (i > 0) push({ type: 'text', text: '\n' });
    for (const p of line) push(element(p));
  });
  if (out.length === 0) out.push({ type: 'text', text: '—' });
  return out;
}

/**
 * A rich text block of lines mixing our words, people, links and AWS identifiers (code-styled,
 * exact). What Slack shows of each identifier is `identifierText` of it.
 */
export function richLines(lines: readonly Line[], blockId?: string): RichTextBlock {
  const section: RichTextSection = { type: 'rich_text_section', elements: elements(lines) };
  const block: RichTextBlock = { type: 'rich_text', elements: [section] };
  if (blockId !== undefined) block.block_id = blockId;
  return block;
}

/**
 * Characters a line adds to a message as sent: the JSON of its elements, styles and all. Budgets
 * count this, not the visible text, so that a block of many short code-styled items stays within a
 * section's 3000 and a message within Slack's total for its blocks (LIMITS.messageBlocksText).
 */
export function lineSize(line: Line): number {
  return JSON.stringify(elements([line])).length;
}

/**
 * Identifiers joined by ", " with "and N more" when they are more than `maxItems` or `maxChars`
 * (`lineSize`): the rich text counterpart of `listWithMore`. `total` is the full count when
 * only a prefix is passed. Each item is one identifier, or a line of pieces (an identifier with a note).
 */
export function identifierList(
  items: readonly (string | Line)[],
  maxItems: number,
  maxChars: number,
  total: number = items.length,
): Piece[] {
  const n = Math.max(total, items.length);
  const asLine = (x: string | Line): Line => (typeof x === 'string' ? [ident(x, 200)] : x);
  const more = (k: number) => (k > 0 ? ` and ${k} more` : '');
  const out: Piece[] = [];
  let used = 0;
  let kept = 0;
  for (const item of items) {
    if (kept >= maxItems) break;
    const line = asLine(item);
    const len = lineSize(kept > 0 ? [', ', ...line] : line);
    const rest = n - kept - 1;
    if (kept > 0 && used + len + (rest > 0 ? lineSize([more(rest)]) : 0) > maxChars) break;
    if (kept > 0) out.push(words(', '));
    for (const p of line) out.push(typeof p === 'string' ? words(p) : p);
    used += len;
    kept += 1;
  }
  if (n - kept > 0) out.push(words(more(n - kept)));
  return out;
}

/** Size (`lineSize`) of one rich text block of lines: a section's 3000, with room to spare. */
export const RICH_BLOCK_CHARS = LIMITS.sectionText - 200;

/** `head`, then as many of `lines` as fit `max` (`lineSize`), then "… and N more" for the rest. */
export function fitLines(
  head: readonly Line[],
  lines: readonly Line[],
  total: number = lines.length,
  max: number = RICH_BLOCK_CHARS,
): Line[] {
  const out = [...head];
  let used = head.reduce((n, l) => n + lineSize(l) + 1, 0);
  let kept = 0;
  for (const line of lines) {
    const n = lineSize(line) + 1;
    if (kept > 0 && used + n > max) break;
    out.push(line);
    used += n;
    kept += 1;
  }
  if (total > kept) out.push([`… and ${total - kept} more`]);
  return out;
}
