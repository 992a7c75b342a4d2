// Text from elsewhere (a server's answer, an agent's tool name, a bundle file) as the CLI may print it.

/**
 * Every C0 control character, DEL and every C1 control character, and the invisible characters that change how a
 * line reads: every format character (`\p{Cf}`: soft hyphen, zero-width spaces and joiners, direction marks,
 * embeddings, overrides and isolates, word joiners, BOM, tag characters) and the line and paragraph separators
 * (`invoice\u202Efdp.sh` prints as `invoicehs.pdf`).
 */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\p{Cf}\u2028\u2029]/gu;
/** The same, less the line feed, for text printed on several lines. */
const CONTROL_CHARACTERS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\p{Cf}\u2028\u2029]/gu;

/**
 * `text` with every control character (C0, DEL, C1) and every invisible or direction-changing character replaced by
 * a visible `\uXXXX`, so a server or an agent cannot move the cursor, erase a line, set the terminal's title, start a
 * new line to fake a line of output, or make text read otherwise than it is. With
 * `keepNewlines`, `\n` stays (for text printed on several lines, e.g. a checkpoint note or indented JSON).
 *
 * The escape is the JSON and JavaScript one: applied to `JSON.stringify` output (which already escapes C0 but not
 * C1 characters), it keeps the JSON valid and meaning the same.
 *
 * @example
 * printableText('\u001b[2K\rOK'); // '\\u001b[2K\\u000dOK'
 * printableText('line 1\nline 2', { keepNewlines: true }); // unchanged
 */
export function printableText(text: string, options: { keepNewlines?: boolean } = {}): string {
  // One `\uXXXX` per UTF-16 unit, so a character beyond the BMP (a tag character) is written as its surrogate pair.
  return text.replace(options.keepNewlines === true ? CONTROL_CHARACTERS_BUT_NEWLINE : CONTROL_CHARACTERS, (character) =>
    Array.from({ length: character.length }, (_, i) => `\\u${character.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));
}
