// Loads the terminal UI on demand, so text and JSON output never pay for ink and React.
import type { runTui } from './run-tui.js';

export type RunTui = typeof runTui;

/**
 * Call only once stdout is known to be a terminal. ink decides at import time whether it runs in CI
 * (CI or CONTINUOUS_INTEGRATION set) and then paints nothing but the final frame, which on a real
 * terminal is a blank screen until exit; the user asked for the interactive view, so those hints go.
 */
export async function loadTui(): Promise<RunTui> {
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  return (await import('./run-tui.js')).runTui;
}
