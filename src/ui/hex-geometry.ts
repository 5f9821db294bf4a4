// Where the hex pane's lines fall: shared by HexPane (which draws them) and the UI's reducer (which
// bounds the pane's scroll), so that the two agree without the reducer importing ink.

export function bytesPerLine(width: number): number {
  return width >= 6 + 16 * 3 + 17 ? 16 : 8;
}

export interface HexGeometry {
  perLine: number;
  /** Lines of bytes that fit under the pane's title (and its note). */
  body: number;
  lines: number;
  /** The line that brings the highlighted field into view; the pane's first line is base + scroll. */
  base: number;
}

export function hexGeometry(length: number, width: number, height: number, highlight: [number, number] | undefined, withNote: boolean): HexGeometry {
  const perLine = bytesPerLine(width);
  const body = Math.max(1, height - 1 - (withNote ? 1 : 0));
  const lines = Math.ceil(length / perLine);
  const start = highlight !== undefined ? Math.floor(highlight[0] / perLine) : 0;
  const base = start - (start >= body ? Math.floor(body / 2) : 0);
  return { perLine, body, lines, base };
}

/**
 * The pane's first line is `base + scroll`, where base brings the highlighted field into view; the
 * scroll that keeps that first line within the bytes runs from min to max.
 */
export function hexScrollRange(length: number, width: number, height: number, highlight: [number, number] | undefined, withNote: boolean): { min: number; max: number } {
  const { base, lines, body } = hexGeometry(length, width, height, highlight, withNote);
  return { min: -base, max: Math.max(0, lines - body) - base };
}
