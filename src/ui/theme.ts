// Colours for the terminal UI; NO_COLOR (any non-empty value) turns every colour off, leaving
// markers, bold and inverse to carry the meaning.
export interface Theme {
  color: boolean;
  donthave?: string;
  warn?: string;
  error?: string;
  dim?: string;
  accent?: string;
}

export function makeTheme(env: NodeJS.ProcessEnv = process.env): Theme {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return { color: false };
  return { color: true, donthave: 'magenta', warn: 'yellow', error: 'red', dim: 'gray', accent: 'cyan' };
}
