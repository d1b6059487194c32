// Block Kit → readable plain text for a terminal (`npm run demo`, tests, logs). Display only: the
// output is never sent to Slack, so entities are unescaped for reading.
import type { Button, KnownBlock, TextObject } from '@slack/types';
import { unescapeEntities } from './escape.ts';
import type { SlackMessage } from './limits.ts';
import { richTextShown } from './rich.ts';

/** Our own mrkdwn syntax (`<url|label>`, `<#C123>`) → readable text, then entities → characters. */
function display(s: string): string {
  const linked = s.replace(/<([^<>]+)>/g, (_m, inner: string) => {
    if (inner.startsWith('#')) return `#${inner.slice(1).split('|')[1] ?? inner.slice(1)}`;
    const bar = inner.indexOf('|');
    if (bar === -1) return inner;
    return `${inner.slice(bar + 1)} (${inner.slice(0, bar)})`;
  });
  return unescapeEntities(linked).replace(/\u200B/g, '');
}

function textOf(t: TextObject | undefined): string {
  return t === undefined ? '' : display(t.text);
}

/** A field "*Label*\nvalue" → "Label: value". */
function fieldLine(t: TextObject): string {
  const s = textOf(t);
  const m = /^\*([^*\n]+)\*\n([\s\S]*)$/.exec(s);
  return m ? `${m[1]}: ${m[2]!.replace(/\n/g, ' ')}` : s.replace(/\n/g, ' ');
}

function buttonText(b: Button): string {
  const label = b.text.text;
  const mark = b.style === 'danger' ? '!' : '';
  return b.url !== undefined ? `[${label}](${b.url})` : `[${mark}${label}]`;
}

function renderBlock(b: KnownBlock): string[] {
  switch (b.type) {
    case 'header': {
      const t = textOf(b.text);
      return [`=== ${t.toUpperCase()} ===`];
    }
    case 'section': {
      const out: string[] = [];
      if (b.text) out.push(textOf(b.text));
      for (const f of b.fields ?? []) out.push(`  ${fieldLine(f)}`);
      if (b.accessory?.type === 'button') out.push(buttonText(b.accessory));
      return out;
    }
    case 'context':
      return [
        `  ${b.elements
          .map((e) => (e.type === 'mrkdwn' || e.type === 'plain_text' ? display(e.text) : '[image]'))
          .join(' | ')}`,
      ];
    case 'divider':
      return ['----'];
    case 'actions':
      return [b.elements.map((e) => (e.type === 'button' ? buttonText(e) : `[${e.type}]`)).join(' ')];
    case 'rich_text':
      // Shown as written: rich text is never parsed, so nothing is unescaped.
      return richTextShown(b).split('\n');
    default:
      return [`[${b.type} block]`];
  }
}

/** The message as terminal text: blocks if there are any, else the fallback text. */
export function renderText(message: SlackMessage): string {
  if (message.blocks.length === 0) return display(message.text);
  return message.blocks.flatMap(renderBlock).join('\n');
}
