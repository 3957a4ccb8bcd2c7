/**
 * The characters HTTP/1.1 allows in a header's name and value. A head is checked in one pass
 * (HEADER_LINES over all its header lines): a check per name and per value costs more in
 * calls than in the characters it looks at, on every relayed request and answer.
 */

/** A character of a token (RFC 9110): what a header name is made of. */
const TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
/** A character node:http sends in a header value: HTAB, visible ASCII, space, and the bytes 0x80 to 0xff. */
const VCHAR = '[\\t\\x20-\\x7e\\x80-\\xff]';

const TOKEN = new RegExp(`^${TCHAR}+$`);
const FIELD_VALUE = new RegExp(`^${VCHAR}*$`);

/**
 * Header lines and nothing else: `name:value` lines (a token, a colon, value characters)
 * with CRLF between them, none after the last. A folded line, a bare CR or LF, a control
 * character or a name that is not a token fails it.
 */
const HEADER_LINES = new RegExp(`^(?:${TCHAR}+:${VCHAR}*(?:\\r\\n(?!$)|$))*$`);

/** Whether `text` is a token: a header name. */
export const isToken = (text: string): boolean => TOKEN.test(text);

/** Whether `text` may be a header value (or a status line's reason) as node:http sends one. */
export const isFieldValue = (text: string): boolean => FIELD_VALUE.test(text);

/**
 * The header lines of a head, from `at` (where the first starts) to the end of `text`: names
 * and values as sent, flat (`raw`, as node:http's rawHeaders: values without the spaces and
 * tabs around them), and the names in lower case, one for each pair. Undefined when a line is
 * malformed (HEADER_LINES, checked first in one pass; a folded line is obsolete and refused by
 * node:http too). Walked in the text, with no list of lines made.
 */
export function headerLines(text: string, at: number): { raw: string[]; names: string[] } | undefined {
  if (!HEADER_LINES.test(text.slice(at))) return undefined;
  const raw: string[] = [];
  const names: string[] = [];
  while (at < text.length) {
    let end = text.indexOf('\r\n', at);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', at);
    const name = text.slice(at, colon);
    raw.push(name, trimOws(text.slice(colon + 1, end)));
    names.push(name.toLowerCase());
    at = end + 2;
  }
  return { raw, names };
}

/** A header value without the spaces and tabs around it, as node:http trims it (String#trim would also take a byte 0xa0 read as latin1). */
function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 32 || value.charCodeAt(start) === 9)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 32 || value.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}
