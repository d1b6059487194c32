// Every string that reaches Slack from AWS (or from tags, config, error messages) goes through one of
// these helpers. The Block Kit builders never interpolate a raw string into mrkdwn.
//
// Escaping choice:
// - `& < >` become entities, as Slack requires. With `<` escaped, nothing from AWS can form a
//   mention (`<!channel>`, `<@U123>`), a channel link (`<#C1>`) or a link (`<https://x|y>`).
// - Formatting characters are replaced by look-alike characters rather than by inserting zero-width
//   characters next to them. Slack's parser decides bold/italic/strike/code by word boundaries, and
//   zero-width spaces are known to *create* word boundaries there (that is the usual trick to force
//   bold in the middle of a word), so a zero-width character could as easily enable formatting as
//   disable it. A look-alike can never be a formatting marker: `*`→`∗` (U+2217), `~`→`∼` (U+223C),
//   `` ` ``→`ˋ` (U+02CB), `_`→`ˍ` (U+02CD). An underscore between two letters or digits
//   (`ci_deployer`, `AWSReservedSSO_Admin_1a2b`) cannot open or close italics, so it is kept: IAM
//   names are full of underscores and people copy them from messages.
// - Identifiers (names, ARNs, principals, actions, conditions) in a message's own content are
//   code-styled rich text (blocks/rich.ts, `exactIdentifier` below): shown exactly, backticks too.
//   Where only mrkdwn fits (a context line, a summary), `code()` keeps `* _ ~` intact (Slack does
//   not format inside a code span) and replaces only the backtick.
// - `@channel`, `@here`, `@everyone` at the start of a word get a zero-width space after the `@` (in
//   all three helpers), whatever follows them: `@channelˋ` too, so that truncating the text later
//   (which may cut the letter after `channel`) cannot uncover a bare `@channel`. A bot's plain
//   `@here` does not notify anyone; this is belt and braces, invisible to readers, and leaves
//   e-mail addresses (`ops@here.com`) alone.
// - Control characters (including newlines and the Unicode line and paragraph separators) become
//   spaces: AWS text is shown on one line, so it cannot fake a block quote, a list, or a new line of
//   our own text.
// - Invisible characters are removed: every Unicode format character (zero-width spaces, joiners and
//   non-joiners, bidi embeddings, overrides, isolates and marks, the BOM, tag characters, ...) and
//   the blank fillers that render as nothing. A bidi override then cannot reorder what is displayed,
//   and a zero-width space cannot hide inside a name or split a word for Slack's formatting parser.
//   Removing (rather than showing a marker) keeps every helper safe to apply twice: the zero-width
//   space the broadcast defusing inserts is removed and inserted again. A zero-width joiner inside
//   an emoji sequence (👩‍💻) is kept.
// - The same helpers make the top-level `text` of every message (what push notifications and screen
//   readers use; Slack turns `<!channel>` there into a real mention too): builders escape it as they
//   escape blocks, and a property test checks both for every builder.

const ZWSP = '\u200B';

/** C0/C1 control characters, including \n \r \t, and the Unicode line and paragraph separators. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROL = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]+/g;
/**
 * Characters that display as nothing: Unicode format characters (Cf: zero-width space, joiner and
 * non-joiner, word joiner, BOM, bidi controls and marks, tag characters, ...), the combining grapheme
 * joiner and the Hangul fillers.
 */
const INVISIBLE = /\p{Cf}|\u034F|[\u115F\u1160\u3164\uFFA0]/gu;
const PICTOGRAPH_BEFORE = /\p{Extended_Pictographic}[\u{1F3FB}-\u{1F3FF}\uFE0F]?$/u;
const PICTOGRAPH_AFTER = /^\p{Extended_Pictographic}/u;
/** A surrogate that is not part of a pair (JSON would carry it, Slack would show garbage). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ALNUM = /[\p{L}\p{N}]/u;
const BROADCAST = /(^|[^\p{L}\p{N}_.+-])@(channel|here|everyone)/giu;

/** One line of displayable text: no control or invisible characters, no lone surrogates. */
export function clean(s: string): string {
  return s
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(INVISIBLE, (c: string, at: number, all: string) =>
      c === '\u200D' && emojiJoiner(all, at) ? c : '',
    )
    .replace(CONTROL, ' ');
}

/** A zero-width joiner between two pictographs: part of one emoji (👩‍💻), not hidden text. */
function emojiJoiner(all: string, at: number): boolean {
  return (
    PICTOGRAPH_BEFORE.test(all.slice(Math.max(0, at - 4), at)) &&
    PICTOGRAPH_AFTER.test(all.slice(at + 1, at + 3))
  );
}

function entities(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escape text for a mrkdwn field: no mentions, links, or formatting can come out of `s`. */
export function escapeMrkdwn(s: string): string {
  const e = entities(clean(s)).replace(/\*/g, '\u2217').replace(/~/g, '\u223C').replace(/`/g, '\u02CB');
  let out = '';
  for (let i = 0; i < e.length; i++) {
    const c = e[i]!;
    if (c === '_') {
      const before = e[i - 1];
      const after = e[i + 1];
      const inWord = before !== undefined && after !== undefined && ALNUM.test(before) && ALNUM.test(after);
      out += inWord ? '_' : '\u02CD';
    } else {
      out += c;
    }
  }
  return defuseBroadcast(out);
}

function defuseBroadcast(s: string): string {
  return s.replace(BROADCAST, `$1@${ZWSP}$2`);
}

/**
 * An inline code span for an identifier from AWS: `&<>` escaped, backticks replaced (they would end
 * the span), everything else verbatim. `max` caps the content as escaped (the span stays closed).
 */
export function code(s: string, max?: number): string {
  let inner = defuseBroadcast(entities(clean(s)).replace(/`/g, '\u02CB'));
  if (max !== undefined && inner.length > max) inner = `${cutEscaped(inner, Math.max(1, max - 1))}…`;
  // An empty or all-space span would show its backticks literally.
  if (inner.trim() === '') return '(empty)';
  return `\`${inner}\``;
}

/**
 * Text for a plain_text object (header, button label, confirm dialog). Slack does not parse
 * plain_text, so `&` stays as is; `<` and `>` still become look-alikes (‹ ›) so that no output of
 * ours contains a raw `<` taken from AWS data, whatever field it lands in. `max` truncates.
 */
export function plain(s: string, max?: number): string {
  const p = defuseBroadcast(clean(s).replace(/</g, '\u2039').replace(/>/g, '\u203A'));
  if (max === undefined || p.length <= max) return p;
  return `${cutEscaped(p, Math.max(0, max - 1))}…`;
}

const SAFE_URL = /^https:\/\/[^\s<>|"`]+$/;

/**
 * A mrkdwn link. Only for URLs this bot builds itself (console links); throws on anything that is
 * not a plain https URL, so a malformed value can never break out of the `<…|…>` syntax.
 */
export function link(url: string, label: string): string {
  if (!SAFE_URL.test(url)) throw new Error(`link: refusing to link an unsafe URL: ${url.slice(0, 80)}`);
  return `<${url.replace(/&/g, '&amp;')}|${escapeMrkdwn(label)}>`;
}

/** A Slack user id: `U…`, or `W…` on Enterprise Grid. */
export const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** A person: a mention for a Slack user id (`<@U123>`), escaped text for anything else ('system'). */
export function userRef(user: string): string {
  return SLACK_USER_ID.test(user) ? `<@${user}>` : escapeMrkdwn(user);
}

/** A public or private channel id (not a DM). */
export const CHANNEL_ID = /^[CG][A-Z0-9]{6,}$/;

/** A channel reference: a real link for an id (`<#C123>`), escaped text for a `#name`. */
export function channelRef(channel: string): string {
  if (CHANNEL_ID.test(channel)) return `<#${channel}>`;
  const name = channel.startsWith('#') ? channel : `#${channel}`;
  return escapeMrkdwn(name);
}

/**
 * Cut `s` to at most `n` characters without splitting an `&amp;`/`&lt;`/`&gt;` entity or a
 * surrogate pair. Shared with limits.ts (which adds the ellipsis).
 */
export function cutEscaped(s: string, n: number): string {
  if (s.length <= n) return s;
  let end = Math.max(0, n);
  const amp = s.lastIndexOf('&', end - 1);
  if (amp !== -1 && amp > end - 5) {
    const m = /^&(amp|lt|gt);/.exec(s.slice(amp, amp + 5));
    if (m && amp + m[0].length > end) end = amp;
  }
  const last = s.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return s.slice(0, end);
}

/** Undo entity escaping for display outside Slack (terminal rendering, tests). */
export function unescapeEntities(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * JSON for a preformatted rich text block (shown verbatim: no mrkdwn, no entities): indented, and
 * every character that would not show or could reorder what is shown (controls, line and paragraph
 * separators, format characters, lone surrogates) written as a `\uXXXX` escape. It parses back to
 * exactly `value`, and nothing in it is invisible.
 */
export function verbatimJson(value: unknown): string {
  return verbatimText(JSON.stringify(value, null, 2));
}

/**
 * Text for preformatted rich text, line breaks kept: what would not show (format characters, lone
 * surrogates, controls other than line breaks and tabs) written as `\uXXXX`, everything else as is.
 */
export function verbatimText(s: string): string {
  const unit = unicodeEscape;
  return (
    s
      .replace(LONE_SURROGATE, unit)
      .replace(INVISIBLE, unit)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
      .replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029]/g, unit)
  );
}

/**
 * An identifier from AWS (an ARN, action, principal, condition, key id) for a code-styled rich text
 * element, which Slack shows as written (no mrkdwn, no entities, no mentions): every character as
 * is but those that would not show or would break the line, written as `\uXXXX` as in
 * `verbatimText`: format characters (zero-width spaces and joiners, bidi controls, the BOM), lone
 * surrogates, and every control character, line breaks included (an identifier is one line). So
 * what a reader sees is AWS's string exactly, and a hidden character in it is visible.
 */
export function exactIdentifier(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
  return verbatimText(s).replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/g, unicodeEscape);
}

function unicodeEscape(c: string): string {
  return Array.from(
    { length: c.length },
    (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`,
  ).join('');
}

/**
 * The lines of a multi-line code block (for JSON from AWS, shown inside ```): each line cleaned and
 * `&<>` escaped, line breaks kept, broadcasts defused, and backtick runs broken so nothing in the
 * text can close the block. Slack does not format inside a code block, so `* _ ~` stay as they are.
 */
export function codeBlockLines(s: string): string[] {
  return s
    .split('\n')
    .map((line) => defuseBroadcast(entities(clean(line))).replace(/``+/g, (m) => 'ˋ'.repeat(m.length)));
}
