import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  channelRef,
  code,
  codeBlockLines,
  cutEscaped,
  escapeMrkdwn,
  link,
  plain,
  unescapeEntities,
  userRef,
} from '../../blocks/escape.ts';
import { truncate } from '../../blocks/limits.ts';

const ZWSP = '\u200B';

describe('escapeMrkdwn', () => {
  it.each([
    ['<!channel>', '&lt;!channel&gt;'],
    ['<!here>', '&lt;!here&gt;'],
    ['<!everyone>', '&lt;!everyone&gt;'],
    ['<@U123>', '&lt;@U123&gt;'],
    ['<#C0123456>', '&lt;#C0123456&gt;'],
    ['<https://evil.example|click>', '&lt;https://evil.example|click&gt;'],
    ['<!subteam^S123|@team>', '&lt;!subteam^S123|@team&gt;'],
    ['&amp;', '&amp;amp;'],
    ['a & b', 'a &amp; b'],
  ])('escapes Slack control characters in %j', (input, expected) => {
    expect(escapeMrkdwn(input)).toBe(expected);
  });

  it.each([
    ['*bold*', '\u2217bold\u2217'],
    ['_italic_', '\u02CDitalic\u02CD'],
    ['~strike~', '\u223Cstrike\u223C'],
    ['`code`', '\u02CBcode\u02CB'],
    ['```block```', '\u02CB\u02CB\u02CBblock\u02CB\u02CB\u02CB'],
  ])('neutralises formatting in %j', (input, expected) => {
    expect(escapeMrkdwn(input)).toBe(expected);
  });

  it('keeps underscores inside words (IAM names)', () => {
    expect(escapeMrkdwn('AWSReservedSSO_Admin_1a2b ci_deployer')).toBe(
      'AWSReservedSSO_Admin_1a2b ci_deployer',
    );
    expect(escapeMrkdwn('_x a_ _')).toBe('\u02CDx a\u02CD \u02CD');
  });

  it('defuses broadcast words but not e-mail addresses', () => {
    expect(escapeMrkdwn('hey @channel and @here, @everyone!')).toBe(
      `hey @${ZWSP}channel and @${ZWSP}here, @${ZWSP}everyone!`,
    );
    expect(escapeMrkdwn('ops@here.com')).toBe('ops@here.com');
    // A word that only starts with a broadcast is defused too: cutting the text later must not
    // uncover a bare @channel (a property test found one in a truncated code span).
    expect(escapeMrkdwn('@channels')).toBe(`@${ZWSP}channels`);
    expect(truncate(escapeMrkdwn('see @channelx'), 13)).toBe(`see @${ZWSP}channe…`);
    expect(code('*bold*@channel```', 16)).toBe(`\`*bold*@${ZWSP}channel…\``);
  });

  it('puts AWS text on one line and drops bidi overrides', () => {
    expect(escapeMrkdwn('a\n> quote\r\n• item')).toBe('a &gt; quote • item');
    expect(escapeMrkdwn('abc\u202Egpj.exe')).toBe('abcgpj.exe');
  });

  it('removes zero-width and other invisible characters from every helper, but not from an emoji', () => {
    const hidden = 'ad\u200Bmin\u200C\u200D\u2060\uFEFF\u00AD\u202E\u2066x\u3164\u034F\u{E0041}';
    expect(escapeMrkdwn(hidden)).toBe('adminx');
    expect(code(`arn:aws:iam::1:role/${hidden}`)).toBe('`arn:aws:iam::1:role/adminx`');
    expect(plain(hidden)).toBe('adminx');
    expect(codeBlockLines(`{"a":"${hidden}"}`)).toEqual(['{"a":"adminx"}']);
    expect(escapeMrkdwn('👩\u200D💻 ok')).toBe('👩\u200D💻 ok');
    expect(escapeMrkdwn('a\u2028b\u2029c')).toBe('a b c');
    // The zero-width space that defuses a broadcast survives a second pass (and only that one).
    expect(plain(plain('@here'))).toBe(`@${ZWSP}here`);
  });

  it('round-trips through unescapeEntities for &, < and >', () => {
    for (const s of ['&amp;', '<!channel>', 'a&lt;b', '&&&', '>>>']) {
      expect(unescapeEntities(escapeMrkdwn(s))).toBe(s);
    }
  });

  it('never produces a raw <, >, formatting character or broken entity (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        const e = escapeMrkdwn(s);
        expect(e).not.toMatch(/[<>*~`]/);
        expect(e).not.toMatch(/&(?!amp;|lt;|gt;)/);
        expect(e).not.toMatch(/(^|[^\p{L}\p{N}_.+-])@(channel|here|everyone)(?![\p{L}\p{N}_])/iu);
        expect(e).not.toMatch(/[\n\r]/);
      }),
    );
  });
});

describe('code', () => {
  it('keeps identifiers verbatim inside the span, except backticks and &<>', () => {
    expect(code('arn:aws:iam::111111111111:role/_svc_*')).toBe('`arn:aws:iam::111111111111:role/_svc_*`');
    expect(code('a`b')).toBe('`a\u02CBb`');
    expect(code('<!channel>')).toBe('`&lt;!channel&gt;`');
    expect(code('')).toBe('(empty)');
  });

  it('truncates inside the span and keeps it closed', () => {
    const c = code('x'.repeat(50), 10);
    expect(c).toBe('`xxxxxxxxx…`');
    expect(code('&&&&&&', 6)).toBe('`&amp;…`');
    expect(code('&&&&&&', 4)).toBe('`…`');
  });
});

describe('plain', () => {
  it('keeps & and turns < > into look-alikes', () => {
    expect(plain('a & b <!here>')).toBe('a & b \u2039!here\u203A');
  });
  it('limits length', () => {
    expect(plain('abcdef', 4)).toBe('abc…');
  });
});

describe('link', () => {
  it('builds a mrkdwn link with an escaped label', () => {
    expect(link('https://console.aws.amazon.com/x?a=1&b=2', '<!here> *now*')).toBe(
      '<https://console.aws.amazon.com/x?a=1&amp;b=2|&lt;!here&gt; \u2217now\u2217>',
    );
  });
  it.each(['javascript:alert(1)', 'https://x|y', 'https://x>y', 'https://a b', 'http://plain'])(
    'refuses %j',
    (url) => {
      expect(() => link(url, 'x')).toThrow(/unsafe URL/);
    },
  );
});

describe('channelRef', () => {
  it('links channel ids and escapes names', () => {
    expect(channelRef('C0123456789')).toBe('<#C0123456789>');
    expect(channelRef('#team-data')).toBe('#team-data');
    expect(channelRef('<!channel>')).toBe('#&lt;!channel&gt;');
  });
});

describe('truncation never cuts an entity in half', () => {
  it('at every cut point', () => {
    const s = escapeMrkdwn('a&b<c>d&&&');
    for (let n = 1; n <= s.length + 1; n++) {
      const t = truncate(s, n);
      expect(t.length).toBeLessThanOrEqual(n);
      expect(t).not.toMatch(/&(?!amp;|lt;|gt;)/);
      expect(cutEscaped(s, n)).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
  });

  it('for any escaped string and length (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.nat({ max: 250 }), (s, n) => {
        const t = truncate(escapeMrkdwn(s), n);
        expect(t.length).toBeLessThanOrEqual(n);
        expect(t).not.toMatch(/&(?!amp;|lt;|gt;)/);
        expect(t).not.toMatch(/[\uD800-\uDBFF]$/);
      }),
    );
  });
});

describe('userRef', () => {
  it('mentions a Slack user id and escapes anything else', () => {
    expect(userRef('U0ALICE01')).toBe('<@U0ALICE01>');
    expect(userRef('W0GRID001')).toBe('<@W0GRID001>');
    expect(userRef('system')).toBe('system');
    expect(userRef('<!channel>')).toBe('&lt;!channel&gt;');
    expect(userRef('U0ALICE> <!here')).toBe('U0ALICE&gt; &lt;!here');
  });
});
