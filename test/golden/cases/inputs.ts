// Inputs the golden cases share: hostile text (what escaping must neutralise) and text too long for
// its field (what truncation must cut).

/** Slack markup, mentions, links, formatting and entities an AWS string or a person could carry. */
export const INJECTION =
  '<!channel> <@U123ABC> <https://evil.example|click here> *bold* `tick` &amp; ad\u200Bmin';

/** Longer than any Slack text field the builders fill (section text is 3000). */
export const LONG = `${'long-name-'.repeat(310)}end`;

export const CONSOLE = 'https://console.aws.amazon.com';
export const WORKSPACE = 'https://acme.slack.com';
/** The person who clicked: a valid user id the builders mention on purpose. */
export const USER = 'U0ALICE01';
