import { Box, Text } from 'ink';
import { PieceState, type PieceMap } from '../model/store.js';
import { escapeText } from '../output/escape.js';
import type { Theme } from './theme.js';

export interface PieceMapPaneProps {
  map: PieceMap | undefined;
  conn: number | undefined;
  width: number;
  theme: Theme;
  /** On narrow screens: what "#conn ->" stands for, shown in the title. */
  legend?: string | undefined;
}

/** One line per side; when pieces outnumber columns, each cell covers a run of pieces. */
export function PieceMapPane({ map, conn, width, theme, legend }: PieceMapPaneProps) {
  if (map === undefined || map.pieces === 0) {
    return (
      <Box flexDirection="column" height={3} width={width}>
        <Text bold wrap="truncate">
          {legend !== undefined ? ` ${legend} ` : ' Pieces' + (conn !== undefined ? ` #${conn}` : '') + ' '}
        </Text>
        <Text wrap="truncate">{conn === undefined ? '(no connection selected)' : '(no piece information yet)'}</Text>
        <Text> </Text>
      </Box>
    );
  }
  const label = 24;
  const cells = Math.max(1, width - label - 1);
  return (
    <Box flexDirection="column" height={3} width={width}>
      <Text bold wrap="truncate">
        {legend !== undefined ? ` ${legend} │ ${map.pieces} pieces  X lost` : ` Pieces #${conn} at selected row: ${map.pieces} pieces  █ have  · missing  X lost (lt_donthave)`}
      </Text>
      {map.sides.map((side, s) => {
        const { text, lost } = renderSide(side.state, map.pieces, cells);
        return (
          <Text key={s} wrap="truncate">
            {escapeText(map.addr[s as 0 | 1], label - 2).padEnd(label - 1)}{' '}
            <Text color={theme.color && lost ? theme.donthave : undefined}>{text}</Text>
          </Text>
        );
      })}
    </Box>
  );
}

export function renderSide(state: Uint8Array, pieces: number, cells: number): { text: string; lost: boolean } {
  const per = Math.max(1, Math.ceil(pieces / cells));
  let text = '';
  let anyLost = false;
  for (let start = 0; start < pieces; start += per) {
    let have = 0;
    let lost = 0;
    const end = Math.min(pieces, start + per);
    for (let p = start; p < end; p++) {
      if (state[p] === PieceState.Have) have++;
      else if (state[p] === PieceState.Lost) lost++;
    }
    if (lost > 0) anyLost = true;
    text += lost > 0 ? 'X' : have === end - start ? '█' : have === 0 ? '·' : '▒';
  }
  return { text, lost: anyLost };
}
