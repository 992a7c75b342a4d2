// Text from elsewhere (a server's answer, an agent's tool name, a bundle file) as the CLI may print it.

/** Every C0 control character, DEL and every C1 control character. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
/** The same, less the line feed, for text printed on several lines. */
const CONTROL_CHARACTERS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` with every control character (C0, DEL, C1) replaced by a visible `\u00XX`, so a server or an agent cannot
 * move the cursor, erase a line, set the terminal's title or start a new line to fake a line of output. With
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
  return text.replace(options.keepNewlines === true ? CONTROL_CHARACTERS_BUT_NEWLINE : CONTROL_CHARACTERS, (character) =>
    `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
