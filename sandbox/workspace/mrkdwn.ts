// Slack mrkdwn → HTML, as Slack shows it: `&amp; &lt; &gt;` are characters, `<@U…>` `<#C…>` `<!here>`
// `<url|label>` are mentions and links, *bold* _italic_ ~strike~ only at word boundaries, `code` and
// ```blocks``` verbatim, `>` quotes. Nothing in the text can produce markup of its own: every character
// that reaches the HTML is escaped.
import { unescapeEntities } from '../../blocks/escape.ts';

export interface MrkdwnContext {
  userName(id: string): string | undefined;
  channelName(id: string): string | undefined;
}

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** A URL for an href: http(s) and mailto only; anything else is shown as text. */
function safeHref(url: string): string | undefined {
  return /^(https?:\/\/|mailto:)/i.test(url) ? url : undefined;
}

/** `<…>` markup: a mention, a channel, a broadcast, a date, or a link. */
function token(inner: string, ctx: MrkdwnContext): string {
  const [target = '', label] = splitOnce(inner, '|');
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return `<span class="mention">@${escapeHtml(label ?? ctx.userName(id) ?? id)}</span>`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    const name = label ?? ctx.channelName(id) ?? id;
    return `<a class="channel-link" href="#/${encodeURIComponent(id)}">#${escapeHtml(name)}</a>`;
  }
  if (target.startsWith('!')) {
    const what = target.slice(1);
    if (what.startsWith('subteam^'))
      return `<span class="mention">@${escapeHtml(label ?? what.slice(8))}</span>`;
    if (what.startsWith('date^')) return escapeHtml(label ?? what);
    return `<span class="mention broadcast">@${escapeHtml(label ?? what)}</span>`;
  }
  const href = safeHref(unescapeEntities(target));
  const text = escapeHtml(unescapeEntities(label ?? target));
  return href
    ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${text}</a>`
    : `<span>${text}</span>`;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i === -1 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

// A marker opens after a non-word character (or the start) and closes before one (or the end).
const W = '\\p{L}\\p{N}';
const style = (marker: '*' | '_' | '~', tag: string) => {
  const m = marker === '*' ? '\\*' : marker;
  return [
    new RegExp(`(^|[^${W}${m}])${m}(?=\\S)([^${m}\\n]*?[^\\s${m}])${m}(?![${W}${m}])`, 'gu'),
    `$1<${tag}>$2</${tag}>`,
  ] as const;
};
const STYLES = [style('*', 'strong'), style('_', 'em'), style('~', 'del')];
const PLACEHOLDER = /\uE000(\d+)\uE000/g;

/** One line of text (no code): tokens, entities, then bold/italic/strike. */
function inline(text: string, ctx: MrkdwnContext): string {
  const parts: string[] = [];
  // Inline code first: nothing inside is formatted or linked.
  let s = text.replace(/`([^`\n]+)`/g, (_m, inner: string) => {
    parts.push(`<code>${escapeHtml(unescapeEntities(inner))}</code>`);
    return `\uE000${parts.length - 1}\uE000`;
  });
  s = s.replace(/<([^<>\n]+)>/g, (_m, inner: string) => {
    parts.push(token(inner, ctx));
    return `\uE000${parts.length - 1}\uE000`;
  });
  let html = escapeHtml(unescapeEntities(s));
  for (const [re, to] of STYLES) html = html.replace(re, to);
  return html.replace(PLACEHOLDER, (_m, i: string) => parts[Number(i)] ?? '');
}

export function mrkdwnToHtml(text: string, ctx: MrkdwnContext): string {
  const out: string[] = [];
  const segments = text.split(/```/);
  segments.forEach((seg, i) => {
    // Odd segments are inside ``` … ``` (an unclosed fence shows its backticks, as Slack does).
    if (i % 2 === 1 && i < segments.length - 1) {
      out.push(`<pre>${escapeHtml(unescapeEntities(seg.replace(/^\n/, '')))}</pre>`);
      return;
    }
    const body = i % 2 === 1 ? `\`\`\`${seg}` : seg;
    const lines = body.split('\n');
    let quote: string[] = [];
    const flush = () => {
      if (quote.length) out.push(`<blockquote>${quote.join('<br>')}</blockquote>`);
      quote = [];
    };
    lines.forEach((line, j) => {
      const q = /^(?:&gt;|>)\s?(.*)$/.exec(line);
      if (q) {
        quote.push(inline(q[1]!, ctx));
        return;
      }
      flush();
      out.push(inline(line, ctx) + (j < lines.length - 1 ? '<br>' : ''));
    });
    flush();
  });
  return out.join('');
}

/** plain_text as Slack shows it: verbatim (Slack does not parse it), HTML-escaped. */
export function plainToHtml(text: string): string {
  return escapeHtml(text).replace(/\n/g, '<br>');
}
