// Finding codes and their severities: the stable vocabulary of `event: "finding"` records
// (documented in README.md).
import type { Severity } from '../model/record.js';

export const FINDING_SEVERITY = {
  'donthave-malformed': 'error',
  'donthave-out-of-range': 'error',
  'donthave-not-announced': 'warning',
  'donthave-redundant': 'info',
  'donthave-unsupported': 'warning',
  'request-after-donthave': 'warning',
  'requests-dropped-by-donthave': 'info',
  'ext-unknown-id': 'error',
  'ext-id-own-mapping': 'error',
  'ext-before-handshake': 'warning',
  'fast-not-negotiated': 'error',
  'bitfield-bad-length': 'error',
  'bitfield-spare-bits': 'warning',
  'bitfield-not-first': 'error',
  'piece-out-of-range': 'error',
  'block-too-large': 'error',
  'hash-mismatch': 'error',
  'metadata-piece-size': 'error',
  'metadata-total-size': 'error',
  'metadata-rejected': 'warning',
  'metadata-hash-mismatch': 'error',
  'request-unanswered': 'info',
  'request-stalled': 'warning',
  'request-stall-ended': 'info',
  'torrent-unmatched': 'warning',
} as const satisfies Record<string, Severity>;

export type FindingCode = keyof typeof FINDING_SEVERITY;

export const FINDING_CODES = Object.keys(FINDING_SEVERITY) as FindingCode[];
