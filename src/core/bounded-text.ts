/** Longest client name, client version or tool name kept; the MCP specification advises tool names of 1 to 128 characters. */
export const MAX_NAME_LENGTH = 128;
/** Longest user agent kept; longer ones are cut. */
export const MAX_USER_AGENT_LENGTH = 256;

/**
 * Shortest string V8 may keep as a view into a longer one (a "sliced string"); shorter
 * cuts are always copies.
 */
const SLICE_MIN = 13;

/**
 * `value` cut to `max` characters, as a string of its own. V8 keeps a cut string (and may
 * keep a string JSON.parse made) as a view into its source, so a 40-character client name
 * kept for a session's life could pin the whole request body it came in; a copy pins nothing.
 * Anything but a string becomes ''.
 */
export function boundedText(value: unknown, max: number = MAX_NAME_LENGTH): string {
  if (typeof value !== 'string') return '';
  const cut = value.length > max ? value.slice(0, max) : value;
  // Prefixing makes V8 build a new flat string; the slice then views that copy, not the source.
  return cut.length < SLICE_MIN ? cut : (' ' + cut).slice(1);
}
