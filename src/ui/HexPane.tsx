import { Box, Text } from 'ink';
import type { Theme } from './theme.js';

export interface HexPaneProps {
  bytes: Uint8Array | undefined;
  total: number;
  highlight: [number, number] | undefined;
  height: number;
  width: number;
  focused: boolean;
  scroll: number;
  theme: Theme;
}

const HEX = '0123456789abcdef';

export function bytesPerLine(width: number): number {
  return width >= 6 + 16 * 3 + 17 ? 16 : 8;
}

export function HexPane({ bytes, total, highlight, height, width, focused, scroll, theme }: HexPaneProps) {
  const perLine = bytesPerLine(width);
  const body = height - 1;
  const lines = bytes === undefined ? 0 : Math.ceil(bytes.length / perLine);
  const start = highlight !== undefined ? Math.floor(highlight[0] / perLine) : 0;
  const top = Math.max(0, Math.min(scroll + start - (start >= body ? Math.floor(body / 2) : 0), lines - body));
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
  const kept = bytes === undefined ? '' : bytes.length < total ? ` (first ${bytes.length} of ${total} bytes)` : ` (${total} bytes)`;
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text inverse={focused} bold wrap="truncate">
        {' Bytes' + kept + ' '}
      </Text>
      {rendered}
      {bytes === undefined ? <Text>(no bytes for this record)</Text> : null}
    </Box>
  );
}
