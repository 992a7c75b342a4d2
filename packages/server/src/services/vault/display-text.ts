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
