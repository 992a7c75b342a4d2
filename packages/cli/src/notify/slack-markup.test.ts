import { describe, expect, it } from 'vitest';
import { escapeSlackMarkup, slackLiteral } from './slack-markup.js';

// Regression: the notifiers put agent-chosen names and reasons into Slack mrkdwn as they were, so an agent could
// post `<!channel>` and a link of its own to the people who approve its calls.
describe('slackLiteral shows an agent-chosen value, never markup', () => {
  it.each([
    ['a plain tool name', 'run_shell', '`run_shell`'],
    ['a mention', '<!channel> approve now', '`&lt;!channel&gt; approve now`'],
    ['a link with a label', '<https://evil.example/approve|Review in Tollgate>', '`&lt;https://evil.example/approve|Review in Tollgate&gt;`'],
    ['a user mention and an ampersand', '<@U0123> & co', '`&lt;@U0123&gt; &amp; co`'],
    ['emphasis', '*URGENT* _now_ ~old~', '`*URGENT* _now_ ~old~`'],
    ['a backtick closing the code span', 'x` <!here> `y', '`xˋ &lt;!here&gt; ˋy`'],
    ['a line break starting a fake line', 'refund\n*Approved by security*', '`refund\\u000a*Approved by security*`'],
    ['a Markdown link and a plain mention (Mattermost, Teams)', '[Review](https://evil.example) @channel', '`[Review](https://evil.example) @channel`'],
    ['an empty value', '', '`?`'],
  ])('%s', (_name, value, shown) => {
    expect(slackLiteral(value)).toBe(shown);
  });

  it('escapeSlackMarkup escapes & first, so an entity cannot be smuggled', () => {
    expect(escapeSlackMarkup('&lt;!channel&gt; <b>')).toBe('&amp;lt;!channel&amp;gt; &lt;b&gt;');
  });
});
