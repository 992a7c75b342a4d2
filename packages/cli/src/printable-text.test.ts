import { describe, expect, it } from 'vitest';
import { printableText } from './printable-text.js';

// Regression: text from a server was written to the terminal as it was, so a server could erase the line, set the
// window title and print a fake green "OK".
describe('printableText shows control characters instead of passing them to the terminal', () => {
  it.each([
    ['an erase-line and carriage return', '\u001b[2K\rOK', '\\u001b[2K\\u000dOK'],
    ['a window-title sequence (OSC, BEL)', '\u001b]0;pwned\u0007', '\\u001b]0;pwned\\u0007'],
    ['a C1 control sequence introducer', '\u009b32mOK', '\\u009b32mOK'],
    ['DEL, NUL and a tab', 'a\u007fb\u0000c\td', 'a\\u007fb\\u0000c\\u0009d'],
    ['a line break (one-line text)', 'denied\nOK: verified', 'denied\\u000aOK: verified'],
    ['ordinary text, accents and emoji', 'Grüße, 東京 ✓', 'Grüße, 東京 ✓'],
    ['a right-to-left override hiding a file type', 'invoice\u202efdp.sh', 'invoice\\u202efdp.sh'],
    ['zero-width characters and a BOM', 'a\u200bd\u200dm\ufeffin', 'a\\u200bd\\u200dm\\ufeffin'],
    ['a line separator', 'denied\u2028OK', 'denied\\u2028OK'],
    ['a tag character (beyond the BMP: its surrogate pair)', 'ok\u{E0041}', 'ok\\udb40\\udc41'],
  ])('%s', (_name, text, shown) => {
    expect(printableText(text)).toBe(shown);
  });

  it('keeps line breaks when asked, and escaped JSON stays the same JSON', () => {
    expect(printableText('note\nline 2\r\n\u001b[2K', { keepNewlines: true })).toBe('note\nline 2\\u000d\n\\u001b[2K');
    const value = { message: '\u009b2K\u0085x\u001b\u202e' };
    const shown = printableText(JSON.stringify(value, null, 2), { keepNewlines: true });
    expect(shown).not.toMatch(/[\u0080-\u009f\u001b\u202e]/);
    expect(JSON.parse(shown)).toEqual(value);
  });
});
