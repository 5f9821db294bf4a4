// The screen's layout, shared by the ink App and the first frame painted before ink has loaded, so
// that the two put the timeline in the same place.
export const MIN_WIDTH = 60;
export const MIN_HEIGHT = 16;
/** The piece map pane: a title and one line per side. */
export const PIECE_MAP_LINES = 3;

export interface ScreenLayout {
  tooSmall: boolean;
  timelineHeight: number;
  bottomHeight: number;
}

/** `extraLines`: the filter editor (and its error) under the panes. */
export function screenLayout(width: number, height: number, extraLines = 0): ScreenLayout {
  const bottomHeight = Math.max(7, Math.floor(height * 0.35));
  return {
    tooSmall: width < MIN_WIDTH || height < MIN_HEIGHT,
    bottomHeight,
    timelineHeight: Math.max(1, height - 1 - PIECE_MAP_LINES - bottomHeight - extraLines),
  };
}

/** Columns of a hex pane line of 16 bytes (offset, 16 cells, ASCII): see hex-geometry.ts. */
const HEX16 = 71;

/**
 * The details pane takes 45% of the width (at least 30 columns), the bytes pane the rest but a gap;
 * when the bytes pane can have 16 bytes a line by giving up a little of the details, it does.
 */
export function paneWidths(width: number): { details: number; hex: number } {
  const details = Math.max(30, Math.min(Math.floor(width * 0.45), width - 1 - HEX16 >= 40 ? width - 1 - HEX16 : Math.floor(width * 0.45)));
  return { details, hex: width - details - 1 };
}
