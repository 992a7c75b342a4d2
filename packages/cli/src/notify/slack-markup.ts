// Slack `mrkdwn` (also read by Mattermost and Teams workflows) for values an agent chose: shown, never interpreted.
import { printableText } from '../printable-text.js';

/**
 * `text` with Slack's three control characters as entities (`&` `&amp;`, `<` `&lt;`, `>` `&gt;`), so it cannot
 * open a link (`<https://…|label>`) or a mention (`<!channel>`, `<@U123>`).
 * See https://api.slack.com/reference/surfaces/formatting#escaping.
 *
 * @example
 * escapeSlackMarkup('<!channel> & co'); // '&lt;!channel&gt; &amp; co'
 */
export function escapeSlackMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A value (an agent id, a tool name, a reason) shown literally in a `{ text }` message: on one line (control
 * characters and line breaks as `\u00XX`), with `& < >` escaped, in a code span. The code span, not escaping alone,
 * is what keeps `*bold*`, `_italic_` and `~strike~` from formatting, and, for Mattermost and Teams, which read the
 * text as Markdown, `[label](https://…)` links and plain `@channel` mentions from being live. A backtick, which
 * would close the span (mrkdwn has no escape for it), becomes `ˋ` (U+02CB).
 *
 * @example
 * slackLiteral('read_docs* <!channel>'); // '`read_docs* &lt;!channel&gt;`'
 */
export function slackLiteral(value: string): string {
  const shown = escapeSlackMarkup(printableText(value)).replace(/`/g, '\u02cb');
  return `\`${shown === '' ? '?' : shown}\``;
}
