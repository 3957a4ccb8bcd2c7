import { LabelCap } from '../core/label-cap.js';
import { CLIENT_NAME_LIMIT, CUSTOM_METHOD_LIMIT, MCP_METHODS, TOOL_NAME_LIMIT } from './names.js';

/** Shown as client_name when the client sent no clientInfo.name. */
const UNNAMED_CLIENT = 'unknown';

/**
 * The label values a backend may use for strings that clients choose: capped, so no client
 * can grow the set of series. One per backend instance; both backends map alike.
 */
export class LabelPolicy {
  private readonly clientNames = new LabelCap(CLIENT_NAME_LIMIT);
  private readonly toolNames = new LabelCap(TOOL_NAME_LIMIT);
  private readonly customMethods = new LabelCap(CUSTOM_METHOD_LIMIT);

  clientName(name: string): string {
    return this.clientNames.map(name === '' ? UNNAMED_CLIENT : name);
  }

  /** Every MCP method passes; others share a small cap. */
  method(method: string): string {
    return MCP_METHODS.has(method) ? method : this.customMethods.map(method);
  }

  /** Empty stays empty (not a tools/call). */
  toolName(name: string): string {
    return name === '' ? '' : this.toolNames.map(name);
  }
}
