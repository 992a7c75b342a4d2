// Credentials that error text may quote (fetch repeats the URL and the Authorization header it refused).

/** `Bearer <token>` / `Basic <credentials>`: the token runs to the next space or quote. */
const AUTHORIZATION = /\b(Bearer|Basic)\s+[^\s"'`]+/gi;
/** A Tollgate API key (`tg_live_<id>_<secret>`), also a malformed one. */
const API_KEY = /\btg_live_[A-Za-z0-9_-]+/g;
/** The user info of a URL (`//user:password@host`); up to the last `@` before the path, as URL parsers read it. */
const URL_USER_INFO = /\/\/[^\s/?#]+@/g;

/**
 * `text` with every credential it may quote replaced by `[redacted]`: an `Authorization` value (`Bearer <token>`),
 * a Tollgate API key and the `user:password@` of a URL. For error text the CLI prints or logs, which may quote the
 * request that failed.
 *
 * @example
 * redactCredentials('"Bearer tg_live_ab12_cd34" is an invalid header value'); // '"Bearer [redacted]" is an invalid header value'
 * redactCredentials('cannot fetch http://admin:pw@127.0.0.1/x'); // 'cannot fetch http://[redacted]@127.0.0.1/x'
 */
export function redactCredentials(text: string): string {
  return text.replace(AUTHORIZATION, '$1 [redacted]').replace(API_KEY, 'tg_live_[redacted]').replace(URL_USER_INFO, '//[redacted]@');
}
