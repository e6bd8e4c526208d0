/**
 * A strict parser for the subset of RFC 9651 Structured Field Lists the RateLimit headers use
 * (Items with Parameters; bare items: String, Token, Integer, Byte Sequence, Boolean). It
 * follows the RFC's parsing algorithm and throws on anything a conforming parser would reject,
 * so a test that parses our output back proves the syntax, not just a regex shape.
 */
export type SfBareItem = string | number | boolean | { readonly token: string } | { readonly bytes: Uint8Array };

export interface SfItem {
  readonly value: SfBareItem;
  readonly params: ReadonlyMap<string, SfBareItem>;
}

class Parser {
  index = 0;
  constructor(readonly text: string) {}

  fail(why: string): never {
    throw new Error(`structured field parse error at ${this.index}: ${why} in ${JSON.stringify(this.text)}`);
  }

  peek(): string | undefined {
    return this.text[this.index];
  }

  skipSp(): void {
    while (this.peek() === ' ') this.index += 1;
  }

  skipOws(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.index += 1;
  }

  list(): SfItem[] {
    const members: SfItem[] = [];
    this.skipSp();
    while (this.index < this.text.length) {
      members.push(this.item());
      this.skipOws();
      if (this.index >= this.text.length) return members;
      if (this.peek() !== ',') this.fail('expected ,');
      this.index += 1;
      this.skipOws();
      if (this.index >= this.text.length) this.fail('trailing comma');
    }
    return members;
  }

  item(): SfItem {
    const value = this.bareItem();
    const params = new Map<string, SfBareItem>();
    while (this.peek() === ';') {
      this.index += 1;
      this.skipSp();
      const key = this.key();
      let paramValue: SfBareItem = true;
      if (this.peek() === '=') {
        this.index += 1;
        paramValue = this.bareItem();
      }
      params.set(key, paramValue);
    }
    return { value, params };
  }

  key(): string {
    const match = /^[a-z*][a-z0-9_\-.*]*/.exec(this.text.slice(this.index));
    if (match === null) this.fail('expected key');
    this.index += match[0].length;
    return match[0];
  }

  bareItem(): SfBareItem {
    const char = this.peek();
    if (char === undefined) this.fail('expected item');
    if (char === '-' || (char >= '0' && char <= '9')) return this.integer();
    if (char === '"') return this.string();
    if (char === ':') return this.bytes();
    if (char === '?') return this.boolean();
    if (/[A-Za-z*]/.test(char)) return this.token();
    return this.fail(`unexpected ${char}`);
  }

  integer(): number {
    const match = /^-?\d{1,15}/.exec(this.text.slice(this.index));
    if (match === null) this.fail('bad integer');
    this.index += match[0].length;
    if (this.peek() === '.') this.fail('decimals are not expected here');
    if (this.peek() !== undefined && /\d/.test(this.peek()!)) this.fail('integer too long');
    return Number(match[0]);
  }

  string(): string {
    this.index += 1;
    let out = '';
    while (this.index < this.text.length) {
      const char = this.text[this.index]!;
      this.index += 1;
      if (char === '\\') {
        const next = this.text[this.index];
        if (next !== '"' && next !== '\\') this.fail('bad escape');
        out += next;
        this.index += 1;
      } else if (char === '"') {
        return out;
      } else {
        const code = char.charCodeAt(0);
        if (code < 0x20 || code > 0x7e) this.fail('non-printable character in string');
        out += char;
      }
    }
    return this.fail('unterminated string');
  }

  bytes(): { bytes: Uint8Array } {
    this.index += 1;
    const end = this.text.indexOf(':', this.index);
    if (end === -1) this.fail('unterminated byte sequence');
    const base64 = this.text.slice(this.index, end);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) this.fail('bad base64');
    this.index = end + 1;
    return { bytes: new Uint8Array(Buffer.from(base64, 'base64')) };
  }

  boolean(): boolean {
    const text = this.text.slice(this.index, this.index + 2);
    if (text !== '?0' && text !== '?1') this.fail('bad boolean');
    this.index += 2;
    return text === '?1';
  }

  token(): { token: string } {
    const match = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(this.text.slice(this.index));
    this.index += match![0].length;
    return { token: match![0] };
  }
}

/** Parses a Structured Field List (RFC 9651 §4.2.1); throws on any syntax error. */
export function parseSfList(text: string): SfItem[] {
  const parser = new Parser(text);
  const members = parser.list();
  if (parser.index !== text.length) parser.fail('trailing characters');
  return members;
}
