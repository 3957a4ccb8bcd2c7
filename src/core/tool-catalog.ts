import { boundedText, MAX_NAME_LENGTH } from './bounded-text.js';
import { OVERFLOW_LABEL } from './label-cap.js';

/** Tool names a catalog keeps at most; a server offering more is unusual, and the rest count as `other`. */
export const MAX_OFFERED_TOOLS = 1000;

/**
 * The tools the server offers, learnt from its own answers: the tool list at start, every
 * tools/list answer after (so a tool added after `list_changed` is learnt when clients list
 * again), and a tools/call the server answered without an error (only a real tool is).
 * A tools/call names a tool the catalog knows, or counts as `other`: a client calling
 * made-up names takes no label slot from a real tool. Names only accumulate: a tool the
 * server stops offering keeps its name for calls that still arrive.
 */
export class ToolCatalog {
  /** Name to itself: a lookup hands back the catalog's own copy, never the request's string. */
  private readonly names = new Map<string, string>();

  constructor(private readonly limit: number = MAX_OFFERED_TOOLS) {}

  /** Records the names of a tools/list answer's `tools` (anything that is not a named tool is skipped). */
  offer(tools: unknown): void {
    if (!Array.isArray(tools)) return;
    for (const tool of tools as unknown[]) {
      if (this.names.size >= this.limit) return;
      const name = (tool as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || name === '') continue;
      const kept = boundedText(name);
      if (!this.names.has(kept)) this.names.set(kept, kept);
    }
  }

  /**
   * A tools/call of `name` the server answered without an error, so the tool exists: it is
   * learnt. Returns the name as the catalog holds it, or `other` past the limit.
   */
  confirm(name: unknown): string {
    if (typeof name === 'string' && name !== '') this.offer([{ name }]);
    return this.resolve(name);
  }

  /** The tool a tools/call names, as the catalog holds it, or `other` when the server never offered it. */
  resolve(name: unknown): string {
    if (typeof name !== 'string') return OVERFLOW_LABEL;
    return this.names.get(name.length > MAX_NAME_LENGTH ? name.slice(0, MAX_NAME_LENGTH) : name) ?? OVERFLOW_LABEL;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Names known now. */
  get size(): number {
    return this.names.size;
  }
}
