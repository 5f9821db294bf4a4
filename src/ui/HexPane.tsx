import { Box, Text } from 'ink';
import type { Theme } from './theme.js';
import { hexGeometry } from './hex-geometry.js';

export { bytesPerLine, hexScrollRange } from './hex-geometry.js';

export interface HexPaneProps {
  bytes: Uint8Array | undefined;
  total: number;
  /** Why only the first bytes are shown (bytes.length < total). */
  note?: string;
  highlight: [number, number] | undefined;
  height: number;
  width: number;
  focused: boolean;
  scroll: number;
  theme: Theme;
}

const HEX = '0123456789abcdef';

export function HexPane({ bytes, total, note, highlight, height, width, focused, scroll, theme }: HexPaneProps) {
  const shownNote = bytes !== undefined && bytes.length < total ? (note ?? 'the rest is not kept') : undefined;
  const { perLine, body, lines, base } = hexGeometry(bytes?.length ?? 0, width, height, highlight, shownNote !== undefined);
  const top = Math.max(0, Math.min(scroll + base, lines - body));
  const rendered = [];
  for (let line = top; bytes !== undefined && line < Math.min(lines, top + body); line++) {
    const offset = line * perLine;
    const cells = [];
    let ascii = '';
    for (let k = 0; k < perLine; k++) {
      const at = offset + k;
      const b = bytes[at];
      const lit = highlight !== undefined && at >= highlight[0] && at < highlight[1];
      cells.push(
        <Text key={k} inverse={lit} color={theme.color && lit ? theme.accent : undefined}>
          {b === undefined ? '  ' : HEX[b >> 4]! + HEX[b & 15]!}
        </Text>,
      );
      cells.push(<Text key={'s' + k}>{k === perLine / 2 - 1 ? '  ' : ' '}</Text>);
      ascii += b === undefined ? ' ' : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    rendered.push(
      <Text key={line} wrap="truncate">
        {offset.toString(16).padStart(4, '0')} {cells} {ascii}
      </Text>,
    );
  }
  const position = lines > body ? `, lines ${top + 1}-${Math.min(lines, top + body)} of ${lines}` : '';
  const kept = bytes === undefined ? '' : bytes.length < total ? ` (first ${bytes.length} of ${total} bytes${position})` : ` (${total} bytes${position})`;
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text inverse={focused} bold wrap="truncate">
        {' Bytes' + kept + ' '}
      </Text>
      {rendered}
      {shownNote !== undefined ? (
        <Text wrap="truncate" dimColor>
          {shownNote}
        </Text>
      ) : null}
      {bytes === undefined ? <Text>(no bytes for this record)</Text> : null}
    </Box>
  );
}
