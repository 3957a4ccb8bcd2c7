import { OVERFLOW_LABEL } from './label-cap.js';

/** The revision that made requests stand alone: no initialize, no session, `subscriptions/listen`. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/** Every revision of the MCP specification, oldest first. */
export const PROTOCOL_VERSIONS: readonly string[] = ['2024-10-07', '2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', MODERN_PROTOCOL_VERSION];

const CANONICAL: ReadonlyMap<string, string> = new Map(PROTOCOL_VERSIONS.map((version) => [version, version]));

/** Whether a version is of the 2026-07-28 era or later (revisions compare as dates). */
export function isModernVersion(version: string): boolean {
  return version >= MODERN_PROTOCOL_VERSION;
}

/** The version as a label value: a revision of the specification, '' when not known, `other` otherwise. */
export function protocolVersionLabel(version: string): string {
  if (version === '') return '';
  return CANONICAL.get(version) ?? OVERFLOW_LABEL;
}
