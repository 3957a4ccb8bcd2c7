import { LabelCap, OVERFLOW_LABEL } from '../core/label-cap.js';
import { MCP_METHODS } from '../core/mcp-methods.js';
import { protocolVersionLabel } from '../core/protocol-versions.js';
import { OTHER_ERROR, TOOL_ERROR } from '../core/types.js';
import { CLIENT_NAME_LIMIT, ERROR_CODE_LIMIT, TOOL_NAME_LIMIT } from './names.js';

/** Shown as client_name when the client sent no clientInfo.name. */
const UNNAMED_CLIENT = 'unknown';

export interface LabelPolicyOptions {
  /**
   * The client names that get a client_name of their own; every other becomes `other`.
   * Without it, the first 20 distinct names do (first come, first served).
   */
  clientNames?: readonly string[];
}

/**
 * The label values a backend may use for strings that clients choose: capped, so no client
 * can grow the set of series. One per backend instance; both backends map alike.
 */
export class LabelPolicy {
  private readonly namedClients: ReadonlyMap<string, string> | undefined;
  private readonly clientNames = new LabelCap(CLIENT_NAME_LIMIT);
  private readonly toolNames = new LabelCap(TOOL_NAME_LIMIT);
  private readonly errorCodes = new LabelCap(ERROR_CODE_LIMIT);

  constructor(options: LabelPolicyOptions = {}) {
    if (options.clientNames && options.clientNames.length > 0) {
      this.namedClients = new Map(options.clientNames.map((name) => [name, name]));
    }
  }

  clientName(name: string): string {
    const value = name === '' ? UNNAMED_CLIENT : name;
    if (this.namedClients) return this.namedClients.get(value) ?? OVERFLOW_LABEL;
    return this.clientNames.map(value);
  }

  /** A method of the MCP specification, or `other` (the tracker records no other, but a hand-made operation might). */
  method(method: string): string {
    return MCP_METHODS.has(method) ? method : OVERFLOW_LABEL;
  }

  /** A revision of the specification, '' when not known, `other` otherwise. */
  protocolVersion(version: string): string {
    return protocolVersionLabel(version);
  }

  /** Empty stays empty (not a tools/call). */
  toolName(name: string): string {
    return name === '' ? '' : this.toolNames.map(name);
  }

  /** Empty, `tool_error` and `_OTHER` pass; JSON-RPC codes share a cap, then become `_OTHER`. */
  errorType(errorType: string): string {
    if (errorType === '' || errorType === TOOL_ERROR || errorType === OTHER_ERROR) return errorType;
    const kept = this.errorCodes.map(errorType);
    return kept === OVERFLOW_LABEL ? OTHER_ERROR : kept;
  }
}
