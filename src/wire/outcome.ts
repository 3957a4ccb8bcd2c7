/**
 * What an operation's record needs of a JSON-RPC response, found in its text without
 * building the message: its id, the error code when it is an error, and whether a result
 * says `isError`. A tool's result may be large (a file, a page); parsing it to read three
 * fields would cost more than the rest of the monitoring together, so the text is walked
 * once, strings jumped over with indexOf, nothing allocated but the id.
 */

/** The fields of a response the monitor reads. */
export interface Outcome {
  id: string | number;
  /** The error's code; `null` for an error without a numeric one; undefined for a result. */
  errorCode: number | null | undefined;
  /** `result.isError === true` (a tool error). */
  isError: boolean;
  /** `result.protocolVersion` when it is a string: the version an initialize's answer negotiated. */
  protocolVersion: string | undefined;
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COMMA = 44;
const COLON = 58;

/** Characters of a string walked one by one before indexOf takes over: a call of indexOf costs more than a short key. */
const SHORT_STRING = 48;

/** The index just past the string that opens at `i` (a quote), or -1. */
function endOfString(text: string, i: number): number {
  const length = text.length;
  const short = Math.min(length, i + 1 + SHORT_STRING);
  let at = i + 1;
  for (; at < short; at++) {
    const c = text.charCodeAt(at);
    if (c === QUOTE) return at + 1;
    if (c === BACKSLASH) at++;
  }
  if (at >= length) return -1;
  // A long string (a tool's text): jump from quote to quote.
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote < 0) return -1;
    // A quote preceded by an odd run of backslashes is escaped.
    let j = quote - 1;
    while (text.charCodeAt(j) === BACKSLASH) j--;
    if ((quote - 1 - j) % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}

/** The index just past the value that starts at `i` (white space skipped already), or -1 when the text ends inside it. */
function endOfValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return endOfString(text, i);
  const length = text.length;
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    let at = i;
    while (at < length) {
      const d = text.charCodeAt(at);
      if (d === QUOTE) {
        at = endOfString(text, at);
        if (at < 0) return -1;
        continue;
      }
      if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if ((d === CLOSE_BRACE || d === CLOSE_BRACKET) && --depth === 0) return at + 1;
      at++;
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let at = i;
  while (at < length) {
    const d = text.charCodeAt(at);
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || d <= 32) break;
    at++;
  }
  return at;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && text.charCodeAt(i) <= 32) i++;
  return i;
}

/** Which member of the object the walk is in: none of interest, `error` or `result`. */
const TOP = 0;
const IN_ERROR = 1;
const IN_RESULT = 2;

/**
 * The outcome of the JSON-RPC response in `text` (one message: a JSON object), or undefined
 * when it is not a response (a request, a notification, not JSON-RPC, not well formed).
 */
export function outcomeOf(text: string): Outcome | undefined {
  let at = skipSpace(text, 0);
  if (text.charCodeAt(at) !== OPEN_BRACE) return undefined;
  let id: string | number | undefined;
  let method = false;
  let result = false;
  let errorCode: number | null | undefined;
  let isError = false;
  let protocolVersion: string | undefined;
  // The members of the message, and of its `error` or `result` object, one level down.
  let level = TOP;
  at++;
  for (;;) {
    at = skipSpace(text, at);
    let c = text.charCodeAt(at);
    if (c === CLOSE_BRACE) {
      if (level === TOP) break;
      level = TOP;
      at = skipSpace(text, at + 1);
      c = text.charCodeAt(at);
      if (c === COMMA) {
        at++;
        continue;
      }
      if (c === CLOSE_BRACE) break;
      return undefined;
    }
    if (c !== QUOTE) return undefined;
    const keyStart = at + 1;
    const keyEnd = endOfString(text, at);
    if (keyEnd < 0) return undefined;
    const keyLength = keyEnd - 1 - keyStart;
    at = skipSpace(text, keyEnd);
    if (text.charCodeAt(at) !== COLON) return undefined;
    const valueStart = skipSpace(text, at + 1);
    const opensObject = text.charCodeAt(valueStart) === OPEN_BRACE;
    if (level === TOP && keyLength === 6 && opensObject && text.startsWith('result', keyStart)) {
      result = true;
      level = IN_RESULT;
      at = valueStart + 1;
      continue;
    }
    if (level === TOP && keyLength === 5 && text.startsWith('error', keyStart)) {
      errorCode = null;
      if (opensObject) {
        level = IN_ERROR;
        at = valueStart + 1;
        continue;
      }
    }
    const valueEnd = endOfValue(text, valueStart);
    if (valueEnd < 0) return undefined;
    if (level === TOP) {
      if (keyLength === 2 && text.startsWith('id', keyStart)) id = idAt(text, valueStart, valueEnd);
      else if (keyLength === 6 && text.startsWith('method', keyStart)) method = true;
      else if (keyLength === 6 && text.startsWith('result', keyStart)) result = true;
    } else if (level === IN_ERROR) {
      if (keyLength === 4 && text.startsWith('code', keyStart)) {
        const code = Number(text.slice(valueStart, valueEnd));
        if (Number.isInteger(code)) errorCode = code;
      }
    } else if (keyLength === 7 && valueEnd - valueStart === 4 && text.startsWith('isError', keyStart) && text.startsWith('true', valueStart)) {
      isError = true;
    } else if (keyLength === 15 && text.charCodeAt(valueStart) === QUOTE && text.startsWith('protocolVersion', keyStart)) {
      protocolVersion = stringAt(text, valueStart, valueEnd);
    }
    at = skipSpace(text, valueEnd);
    c = text.charCodeAt(at);
    if (c === COMMA) at++;
    else if (c !== CLOSE_BRACE) return undefined;
  }
  if (method || id === undefined || (!result && errorCode === undefined)) return undefined;
  return { id, errorCode, isError, protocolVersion };
}

/** The string whose quotes are at `i` and `end - 1`, unescaped; undefined when it is not one. */
function stringAt(text: string, i: number, end: number): string | undefined {
  const raw = text.slice(i + 1, end - 1);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(text.slice(i, end)) as string;
  } catch {
    return undefined;
  }
}

/** The number or string at `i..end`, or undefined (null, or anything else). */
function idAt(text: string, i: number, end: number): string | number | undefined {
  if (text.charCodeAt(i) === QUOTE) return stringAt(text, i, end);
  if (text.charCodeAt(i) === 110 /* n */) return undefined;
  const value = Number(text.slice(i, end));
  return Number.isFinite(value) ? value : undefined;
}

