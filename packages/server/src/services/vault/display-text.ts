import { TollgateError } from '@tollgate/core';

// C0/C1 controls except tab, LF, CR; bidi embeddings, overrides and isolates. A NUL fails a PostgreSQL text column
// (a 500), bidi controls make a person read the text in another order than it is stored (an approver, a credential
// list), and terminal escapes act on whoever reads a ledger export in a terminal.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

/**
 * Throws `VALIDATION_FAILED` (details.field = `field`) when free text shown to people holds control or
 * bidirectional-override characters; null and undefined pass. Lives here until core has a shared text module.
 *
 * @example
 * refuseControlCharacters('description', input.description);
 */
export function refuseControlCharacters(field: string, text: string | null | undefined): void {
  if (typeof text === 'string' && CONTROL_CHARACTERS.test(text)) {
    throw new TollgateError('VALIDATION_FAILED', `${field} must not contain control or bidirectional-override characters (tab and newlines are fine)`, { details: { field } });
  }
}

// Everything `CONTROL_CHARACTERS` refuses, and what else changes how a line reads without being seen: tab and line
// breaks (U+2028/2029 too), every format character (zero-width space and joiners, bidi marks, soft hyphen, tags),
// the other default-ignorable code points (Hangul fillers, variation selectors) and lone surrogates.
const INVISIBLE_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]/u;
const INVISIBLE_EXCEPT_LINE_BREAKS = /(?![\t\n\r])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]/u;

/**
 * Stricter {@link refuseControlCharacters} for names and labels that documents quote (an agent's name and version
 * in compliance evidence): also refuses invisible format characters, and line breaks and tab unless `multiline`.
 * Throws `VALIDATION_FAILED` with `details.field`; null and undefined pass.
 *
 * @example
 * refuseInvisibleCharacters('version', input.version);
 * refuseInvisibleCharacters('description', input.description, { multiline: true });
 */
export function refuseInvisibleCharacters(field: string, text: string | null | undefined, options: { multiline?: boolean } = {}): void {
  if (typeof text !== 'string' || !(options.multiline ? INVISIBLE_EXCEPT_LINE_BREAKS : INVISIBLE_CHARACTERS).test(text)) return;
  const allowed = options.multiline ? ' (tab and newlines are fine)' : '';
  throw new TollgateError('VALIDATION_FAILED', `${field} must not contain control, line-break, bidirectional or invisible formatting characters${allowed}`, { details: { field } });
}
