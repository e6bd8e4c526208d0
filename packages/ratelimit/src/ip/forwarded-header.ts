/**
 * Splits one element on `;` outside quoted strings (a `\` inside quotes escapes the next
 * character). Returns undefined for an unterminated quote.
 */
function splitParameters(text: string): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (quoted) {
      if (char === '\\') index += 1;
      else if (char === '"') quoted = false;
    } else if (char === '"') {
      quoted = true;
    } else if (char === ';') {
      parts.push(text.slice(start, index));
      start = index + 1;
    }
  }
  if (quoted) return undefined;
  parts.push(text.slice(start));
  return parts;
}

/** A token or a quoted-string value (RFC 7230 §3.2.6), unquoted; undefined when malformed. */
function unquote(value: string): string | undefined {
  if (!value.startsWith('"')) return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? value : undefined;
  if (value.length < 2 || !value.endsWith('"')) return undefined;
  let result = '';
  for (let index = 1; index < value.length - 1; index += 1) {
    const char = value[index]!;
    if (char === '"') return undefined;
    if (char === '\\') {
      index += 1;
      if (index >= value.length - 1) return undefined;
      result += value[index];
    } else {
      result += char;
    }
  }
  return result;
}

/** The `for` value of one element, or '' when the element has none or cannot be read. */
function forOfElement(element: string): string {
  const pairs = splitParameters(element);
  if (pairs === undefined) return '';
  let found: string | undefined;
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals === -1) return '';
    const name = pair.slice(0, equals).trim().toLowerCase();
    const value = unquote(pair.slice(equals + 1).trim());
    if (value === undefined) return '';
    if (name === 'for') {
      // A repeated parameter makes the element invalid (RFC 7239 §4).
      if (found !== undefined) return '';
      found = value;
    }
  }
  return found ?? '';
}

/**
 * The `for=` values of an RFC 7239 `Forwarded` header, in header order (client first, last
 * proxy last). Several header lines (an array, or Node's `", "`-joined string) are read as one
 * list, in order. Elements are split at **every** comma, quoted or not: a `for` node value can
 * never hold a comma, and a client-written unclosed quote must not swallow the elements our
 * proxies append after it (`for=", for=198.51.100.9`). Inside an element, quoted strings may
 * hold `;` and escaped characters; parameter names are case-insensitive. An element without a
 * `for` parameter, or one that cannot be read (a quoted string with a comma in it among them),
 * yields `''`, so a caller walking the chain from the right stops there instead of skipping it.
 *
 * @example
 * ```ts
 * forwardedForValues('for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"');
 * // ['192.0.2.60', '[2001:db8:cafe::17]:4711']
 * forwardedForValues('for=", for=198.51.100.9'); // ['', '198.51.100.9']
 * ```
 */
export function forwardedForValues(header: string | readonly string[] | undefined): string[] {
  if (header === undefined) return [];
  const text = typeof header === 'string' ? header : header.join(',');
  if (text.trim() === '') return [];
  return text.split(',').map(forOfElement);
}
