/*
 * LIKE patterns for substring search. The escape character is `!` rather than the usual
 * backslash because a backslash means different things across dialects: it is LIKE's default
 * escape in Postgres and MySQL but not in SQLite, and MySQL also treats it as an escape inside
 * string literals, so `ESCAPE '\'` is not even portable syntax. With `ESCAPE '!'` everywhere,
 * `!`, `%` and `_` are escaped and a backslash is an ordinary character on every dialect.
 */

/**
 * The escape character every search pattern declares with `ESCAPE '!'`.
 *
 * @example
 * ```ts
 * sql`lower(name) like ${pattern} escape ${sql.lit(likeEscapeCharacter)}`;
 * ```
 */
export const likeEscapeCharacter = '!';

/**
 * A LIKE pattern that matches `text` anywhere, with `%`, `_` and `!` matching literally.
 *
 * @example
 * ```ts
 * containsLikePattern('100%'); // '%100!%%'
 * ```
 */
export function containsLikePattern(text: string): string {
  return `%${text.replace(/[!%_]/g, (character) => `${likeEscapeCharacter}${character}`)}%`;
}
