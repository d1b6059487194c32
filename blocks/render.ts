// Block Kit → readable plain text for a terminal (`npm run demo`, tests, logs). Display only: the
// output is never sent to Slack, so entities are unescaped for reading.
import type { Button, KnownBlock, RichTextBlock, RichTextElement, TextObject } from '@slack/types';
import { unescapeEntities } from './escape.ts';
import type { SlackMessage } from './limits.ts';

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

/** Wrap `text` in a marker, with its outer spaces left outside ("*Done* ", not "*Done *"). */
function wrap(text: string, marker: string): string {
  const m = /^(\s*)([\s\S]*?)(\s*)$/.exec(text)!;
  return m[2] === '' ? text : `${m[1]}${marker}${m[2]}${marker}${m[3]}`;
}

function richLeaf(e: RichTextElement): string {
  switch (e.type) {
    case 'text':
      return e.style?.code ? wrap(e.text, '`') : e.text;
    case 'link':
      return e.text ? `${e.text} (${e.url})` : e.url;
    case 'user':
      return `@${e.user_id}`;
    case 'channel':
      return `#${e.channel_id}`;
    case 'emoji':
      return `:${e.name}:`;
    default:
      return '';
  }
}

/** Leaves as a terminal shows them: code in backticks, each run of bold leaves in one pair of `*`. */
function richLeaves(elements: readonly RichTextElement[]): string {
  let out = '';
  let run = '';
  for (const e of elements) {
    if (e.style?.bold) {
      run += richLeaf(e);
      continue;
    }
    out += wrap(run, '*') + richLeaf(e);
    run = '';
  }
  return out + wrap(run, '*');
}

/** Rich text as written (it is never parsed, so nothing is unescaped); preformatted text as is. */
function richText(b: RichTextBlock): string {
  return b.elements
    .map((el) => {
      if (el.type === 'rich_text_preformatted')
        return el.elements.map((e) => (e.type === 'text' ? e.text : e.url)).join('');
      if (el.type === 'rich_text_list')
        return el.elements.map((item) => `• ${richLeaves(item.elements)}`).join('\n');
      return richLeaves(el.elements);
    })
    .join('\n');
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
      return richText(b).split('\n');
    case 'input': {
      // A text field as the form shows it: its label, and what it holds before anyone types.
      const el = b.element as { type: string; initial_value?: string };
      const value = el.type === 'plain_text_input' ? (el.initial_value ?? '') : el.type;
      return [`${textOf(b.label)}${b.optional ? ' (optional)' : ''}: [${value}]`];
    }
    default:
      return [`[${b.type} block]`];
  }
}

/** The message as terminal text: blocks if there are any, else the fallback text. */
export function renderText(message: SlackMessage): string {
  if (message.blocks.length === 0) return display(message.text);
  return message.blocks.flatMap(renderBlock).join('\n');
}
