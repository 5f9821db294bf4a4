import { Text } from 'ink';
import { escapeText } from '../output/escape.js';

export interface StatusLineProps {
  title: string;
  shown: number;
  total: number;
  filter: string | undefined;
  conn: number | undefined;
  following: boolean;
  state: string;
  width: number;
}

export function StatusLine({ title, shown, total, filter, conn, following, state, width }: StatusLineProps) {
  const parts = [
    escapeText(title, 40),
    `${shown}/${total}`,
    filter ? `filter: ${escapeText(filter, 40)}` : 'no filter',
    conn !== undefined ? `conn #${conn}` : '',
    following ? 'follow' : '',
    state,
    '? help  / filter  n/N donthave  c conn  q quit',
  ].filter((p) => p !== '');
  return (
    <Text inverse wrap="truncate">
      {(' ' + parts.join(' │ ')).padEnd(width)}
    </Text>
  );
}
