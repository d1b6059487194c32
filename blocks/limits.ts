// Slack Block Kit size limits: the only place with the numbers, and the helpers that keep builders
// within them. Sources: @slack/types 3.2 (blocks.d.ts, block-elements.d.ts, composition-objects.d.ts)
// and docs.slack.dev/reference/block-kit (see docs in /work/shared/reference/slack-bullmq-testing.md A2).
// Lengths are JavaScript string lengths (UTF-16 code units), which is never less than the character
// count Slack checks, so staying within them is conservative. They apply to the text as sent, that
// is after escaping (`&amp;` counts five).
import type { Button, ContextBlock, KnownBlock, RichTextBlock, SectionBlock } from '@slack/types';
import { cutEscaped, escapeMrkdwn, plain } from './escape.ts';

export const LIMITS = {
  /** Blocks in one message (100 in modals and Home tabs). */
  blocksPerMessage: 50,
  /** Section `text`: 1..3000. */
  sectionText: 3000,
  /** Section `fields`: at most 10 items of at most 2000 characters. */
  sectionFields: 10,
  sectionFieldText: 2000,
  /** Header block text (plain_text only). */
  headerText: 150,
  /** Context block: at most 10 elements. */
  contextElements: 10,
  /**
   * A text object inside a context block. @slack/types gives no number; 3000 is Slack's general cap
   * for a text object, so we use it.
   */
  contextText: 3000,
  /** Actions block: at most 25 elements. */
  actionsElements: 25,
  /** Button label (plain_text). Slack visibly truncates near 30. */
  buttonText: 75,
  /** Button `value`. */
  buttonValue: 2000,
  /** Button `url`. */
  buttonUrl: 3000,
  /** A view's `private_metadata` (what its submission gets back). */
  privateMetadata: 3000,
  /** `action_id` and `block_id`. */
  actionId: 255,
  blockId: 255,
  /** Confirmation dialog: title, text, confirm and deny labels. */
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** Top-level `text` of a message with blocks (Slack truncates past 40,000; 3000 is our cap). */
  messageText: 3000,
  /** What our builders aim for in the top-level `text`: it is the notification line. */
  messageTextShort: 300,
  /**
   * The text of one rich text element. Slack publishes no number for it; we keep to the 3000 of a
   * section's text, the general cap of a text object.
   */
  richTextElement: 3000,
  /**
   * Characters of block text in one message: Slack refuses messages whose blocks hold more than
   * about 12,000 (docs/architecture.md, security model); we stay below with a margin.
   */
  messageBlocksText: 11_000,
} as const;

export const ELLIPSIS = '…';

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/**
 * Shorten `s` to at most `max` characters, ending with `…` when cut. Never splits an escape entity
 * (`&amp;`, `&lt;`, `&gt;`) or a surrogate pair.
 */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  let cut = cutEscaped(s, max - 1);
  // In mrkdwn a raw `<` opens only a mention or link the bot wrote (<#C…>, <@U…>, <url|…>): a cut
  // inside one would leave a broken, half-live token, so the whole token goes.
  const open = cut.lastIndexOf('<');
  if (open !== -1 && open > cut.lastIndexOf('>')) cut = cut.slice(0, open);
  return cut + ELLIPSIS;
}

/**
 * Join already-escaped items with `sep`, keeping at most `maxItems` of them and `maxChars` in total,
 * and say how many were left out ("a, b and 3 more"). `total` is the full count when the caller
 * passes only a prefix of a long list (so it need not format items that can never be shown).
 */
export function listWithMore(
  items: readonly string[],
  maxItems: number,
  maxChars: number,
  sep = ', ',
  total: number = items.length,
): string {
  const n = Math.max(total, items.length);
  if (n === 0) return '';
  const more = (k: number) => (k > 0 ? ` and ${k} more` : '');
  const kept: string[] = [];
  let length = 0;
  for (const item of items) {
    if (kept.length >= maxItems) break;
    const next = length + (kept.length > 0 ? sep.length : 0) + item.length;
    if (next + more(n - kept.length - 1).length > maxChars) break;
    kept.push(item);
    length = next;
  }
  if (kept.length === 0) {
    const suffix = more(n - 1);
    if (items.length === 0 || suffix.length + 2 > maxChars) return truncate(`${n} items`, maxChars);
    return truncate(items[0]!, maxChars - suffix.length) + suffix;
  }
  return kept.join(sep) + more(n - kept.length);
}

/** Keep at most 50 blocks: the tail is replaced by a context block that says how many were cut. */
export function capBlocks(blocks: KnownBlock[], max: number = LIMITS.blocksPerMessage): KnownBlock[] {
  if (blocks.length <= max) return blocks;
  const kept = blocks.slice(0, max - 1);
  const hidden = blocks.length - kept.length;
  kept.push(context([`${hidden} more sections not shown`]));
  return kept;
}

/** Section text within 1..3000 characters. */
export function fitSection(text: string): string {
  return text.trim() === '' ? '—' : truncate(text, LIMITS.sectionText);
}

/** Header text as plain_text within 150 characters. */
export function fitHeader(text: string): string {
  const t = plain(text, LIMITS.headerText);
  return t.trim() === '' ? '—' : t;
}

/** At most 10 fields of at most 2000 characters; the 10th says how many more there were. */
export function fitFields(fields: readonly string[]): string[] {
  const fit = (f: string) => (f.trim() === '' ? '—' : truncate(f, LIMITS.sectionFieldText));
  if (fields.length <= LIMITS.sectionFields) return fields.map(fit);
  const kept = fields.slice(0, LIMITS.sectionFields - 1).map(fit);
  kept.push(`${fields.length - kept.length} more fields not shown`);
  return kept;
}

/** Button labels are ours, but keep them within 75 characters anyway. */
export function fitButtonText(text: string): string {
  return plain(text, LIMITS.buttonText);
}

/** Button values carry ids: truncating one would break it, so a value that is too long throws. */
export function fitButtonValue(value: string): string {
  if (value.length > LIMITS.buttonValue) {
    throw new Error(`button value is ${value.length} characters; Slack allows ${LIMITS.buttonValue}`);
  }
  return value;
}

/**
 * A view's private_metadata, as sent: it carries ids, and a cut id names nothing, so metadata that is
 * too long throws (Slack would refuse the view) rather than being truncated.
 */
export function fitPrivateMetadata(meta: unknown): string {
  const value = JSON.stringify(meta);
  if (value.length > LIMITS.privateMetadata) {
    throw new Error(`private_metadata is ${value.length} characters; Slack allows ${LIMITS.privateMetadata}`);
  }
  return value;
}

/** Text for a context element within its limit. */
export function fitContext(text: string): string {
  return text.trim() === '' ? '—' : truncate(text, LIMITS.contextText);
}

/**
 * The top-level `text` of a message from plain words and raw values (a reason, an ARN, a tag):
 * escaped as a whole, as blocks are, because Slack parses it too (a `<!channel>` there notifies
 * everyone), then fitted. The one way builders make it from anything not already escaped.
 */
export function messageText(raw: string, max: number = LIMITS.messageTextShort): string {
  return fitMessageText(escapeMrkdwn(raw), max);
}

/** The top-level fallback `text` from already escaped text: short, never empty. */
export function fitMessageText(text: string, max: number = LIMITS.messageTextShort): string {
  const t = truncate(text, Math.min(max, LIMITS.messageText));
  return t.trim() === '' ? 'access-patrol' : t;
}

/** A context block from mrkdwn strings (at most 10 elements, each within its limit). */
export function context(texts: readonly string[], blockId?: string): ContextBlock {
  const kept =
    texts.length <= LIMITS.contextElements
      ? texts
      : [...texts.slice(0, LIMITS.contextElements - 1), `${texts.length - LIMITS.contextElements + 1} more`];
  const block: ContextBlock = {
    type: 'context',
    elements: kept.map((t) => ({ type: 'mrkdwn', text: fitContext(t) })),
  };
  if (blockId !== undefined) block.block_id = blockId;
  return block;
}

/** A mrkdwn section, optionally with fields. */
export function section(text: string | undefined, fields?: readonly string[]): SectionBlock {
  const block: SectionBlock = { type: 'section' };
  if (text !== undefined) block.text = { type: 'mrkdwn', text: fitSection(text) };
  if (fields !== undefined && fields.length > 0) {
    block.fields = fitFields(fields).map((f) => ({ type: 'mrkdwn', text: f }));
  }
  return block;
}

/** Every limit violation in a message, as readable strings; empty when the message is valid. */
export function limitViolations(message: SlackMessage): string[] {
  const v: string[] = [];
  const len = (what: string, s: string | undefined, max: number, min = 1) => {
    if (s === undefined) return;
    if (s.length > max) v.push(`${what}: ${s.length} characters > ${max}`);
    if (s.length < min) v.push(`${what}: empty`);
  };
  if (typeof message.text !== 'string' || message.text.trim() === '') v.push('text: missing fallback text');
  else len('text', message.text, LIMITS.messageText);
  if (message.blocks.length > LIMITS.blocksPerMessage) {
    v.push(`blocks: ${message.blocks.length} > ${LIMITS.blocksPerMessage}`);
  }
  const blockIds = new Set<string>();
  message.blocks.forEach((b, i) => {
    const at = `blocks[${i}] (${b.type})`;
    if (b.block_id !== undefined) {
      len(`${at}.block_id`, b.block_id, LIMITS.blockId);
      if (blockIds.has(b.block_id)) v.push(`${at}.block_id: duplicate ${b.block_id}`);
      blockIds.add(b.block_id);
    }
    switch (b.type) {
      case 'header':
        if (b.text.type !== 'plain_text') v.push(`${at}.text: must be plain_text`);
        len(`${at}.text`, b.text.text, LIMITS.headerText);
        break;
      case 'section':
        if (b.text === undefined && (b.fields === undefined || b.fields.length === 0)) {
          v.push(`${at}: needs text or fields`);
        }
        len(`${at}.text`, b.text?.text, LIMITS.sectionText);
        if (b.fields !== undefined) {
          if (b.fields.length > LIMITS.sectionFields) {
            v.push(`${at}.fields: ${b.fields.length} > ${LIMITS.sectionFields}`);
          }
          b.fields.forEach((f, j) => {
            len(`${at}.fields[${j}]`, f.text, LIMITS.sectionFieldText);
          });
        }
        if (b.accessory?.type === 'button') checkButton(`${at}.accessory`, b.accessory, v, len);
        break;
      case 'context':
        if (b.elements.length > LIMITS.contextElements) {
          v.push(`${at}.elements: ${b.elements.length} > ${LIMITS.contextElements}`);
        }
        if (b.elements.length === 0) v.push(`${at}.elements: empty`);
        b.elements.forEach((e, j) => {
          if (e.type === 'plain_text' || e.type === 'mrkdwn')
            len(`${at}.elements[${j}]`, e.text, LIMITS.contextText);
        });
        break;
      case 'actions': {
        if (b.elements.length > LIMITS.actionsElements) {
          v.push(`${at}.elements: ${b.elements.length} > ${LIMITS.actionsElements}`);
        }
        if (b.elements.length === 0) v.push(`${at}.elements: empty`);
        const ids = new Set<string>();
        b.elements.forEach((e, j) => {
          const id = 'action_id' in e ? e.action_id : undefined;
          if (id !== undefined) {
            if (ids.has(id)) v.push(`${at}.elements[${j}].action_id: duplicate ${id}`);
            ids.add(id);
          }
          if (e.type === 'button') checkButton(`${at}.elements[${j}]`, e, v, len);
        });
        break;
      }
      case 'rich_text':
        if (b.elements.length === 0) v.push(`${at}.elements: empty`);
        for (const [j, el] of b.elements.entries()) {
          if (el.type !== 'rich_text_preformatted' && el.type !== 'rich_text_section') continue;
          if (el.elements.length === 0) v.push(`${at}.elements[${j}].elements: empty`);
          for (const [k, t] of el.elements.entries())
            if (t.type === 'text')
              len(`${at}.elements[${j}].elements[${k}].text`, t.text, LIMITS.richTextElement);
        }
        break;
      default:
        break;
    }
  });
  return v;
}

function checkButton(
  at: string,
  b: Button,
  v: string[],
  len: (what: string, s: string | undefined, max: number, min?: number) => void,
): void {
  if (b.text.type !== 'plain_text') v.push(`${at}.text: must be plain_text`);
  len(`${at}.text`, b.text.text, LIMITS.buttonText);
  len(`${at}.value`, b.value, LIMITS.buttonValue);
  len(`${at}.url`, b.url, LIMITS.buttonUrl);
  len(`${at}.action_id`, b.action_id, LIMITS.actionId);
  if (b.confirm) {
    len(`${at}.confirm.title`, b.confirm.title?.text, LIMITS.confirmTitle);
    len(`${at}.confirm.text`, b.confirm.text.text, LIMITS.confirmText);
    len(`${at}.confirm.confirm`, b.confirm.confirm?.text, LIMITS.confirmButton);
    len(`${at}.confirm.deny`, b.confirm.deny?.text, LIMITS.confirmButton);
  }
}

/** Throws with every violation listed when a message breaks a Slack limit. */
export function assertWithinLimits(message: SlackMessage): void {
  const v = limitViolations(message);
  if (v.length > 0) throw new Error(`Slack message exceeds Block Kit limits:\n- ${v.join('\n- ')}`);
}

/**
 * Code blocks (```…```) holding `lines` (already escaped), each within a section's 3000 characters:
 * lines are kept whole where they fit, and a line longer than a block is cut across blocks.
 */
export function codeSections(
  lines: readonly string[],
  max: number = LIMITS.sectionText - 10,
): SectionBlock[] {
  const chunks: string[] = [];
  let current = '';
  const push = () => {
    if (current !== '') chunks.push(current);
    current = '';
  };
  for (const line of lines) {
    let rest = line;
    while (rest.length > max) {
      push();
      const cut = cutEscaped(rest, max);
      chunks.push(cut);
      rest = rest.slice(cut.length);
    }
    if (current.length + rest.length + 1 > max) push();
    current = current === '' ? rest : `${current}\n${rest}`;
  }
  push();
  return chunks.map((c) => ({ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${c}\`\`\`` } }));
}

/**
 * Text Slack shows verbatim (no mrkdwn, no entities, no mentions: a rich text `text` element is
 * never parsed), as preformatted rich text blocks of at most `max` characters each. The blocks'
 * texts joined in order are `text` less the line breaks the cuts fell on: cuts fall on a line break
 * when there is one within the block (JSON, where a line break between values is whitespace, reads
 * back the same either way), and inside a line only when the line alone is longer than a block.
 */
export function preformattedBlocks(text: string, max: number = LIMITS.richTextElement): RichTextBlock[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const nl = rest.lastIndexOf('\n', max);
    if (nl > 0) {
      chunks.push(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    } else {
      const cut = cutEscaped(rest, max);
      chunks.push(cut);
      rest = rest.slice(cut.length);
    }
  }
  if (rest !== '' || chunks.length === 0) chunks.push(rest === '' ? ' ' : rest);
  return chunks.map((c) => ({
    type: 'rich_text',
    elements: [{ type: 'rich_text_preformatted', elements: [{ type: 'text', text: c }] }],
  }));
}

/** The text of a preformatted rich text block from `preformattedBlocks`, or undefined for any other block. */
export function preformattedText(block: KnownBlock): string | undefined {
  if (block.type !== 'rich_text') return undefined;
  const [el] = block.elements;
  if (el?.type !== 'rich_text_preformatted') return undefined;
  return el.elements.map((e) => (e.type === 'text' ? e.text : '')).join('');
}

/**
 * Long verbatim text as one or more messages: each starts with the blocks `head(part, parts)` gives
 * and holds as many preformatted blocks as fit in a message.
 */
export function preformattedMessages(
  text: string,
  head: (part: number, parts: number) => SlackMessage,
): SlackMessage[] {
  const bodies = preformattedBlocks(text);
  const headSize = blocksText(head(1, 1).blocks) + 200;
  const groups: RichTextBlock[][] = [[]];
  let size = headSize;
  for (const b of bodies) {
    const n = preformattedText(b)?.length ?? 0;
    const group = groups.at(-1)!;
    if (
      group.length > 0 &&
      (size + n > LIMITS.messageBlocksText || group.length >= LIMITS.blocksPerMessage - 2)
    ) {
      groups.push([b]);
      size = headSize + n;
    } else {
      group.push(b);
      size += n;
    }
  }
  return groups.map((g, i) => {
    const h = head(i + 1, groups.length);
    return { text: h.text, blocks: [...h.blocks, ...g] };
  });
}

/** Characters of text in blocks (sections, contexts, rich text), for the per-message budget. */
function blocksText(blocks: readonly KnownBlock[]): number {
  return JSON.stringify(blocks).length;
}
