import { Box, Text } from 'ink';
import type { RecordStore } from '../model/store.js';
import { firstTimestamp, formatRow } from './row-format.js';
import { rowColor } from './first-frame.js';
import type { Theme } from './theme.js';

export interface TimelineProps {
  store: RecordStore;
  top: number;
  selected: number;
  height: number;
  width: number;
  absoluteTime: boolean;
  focused: boolean;
  theme: Theme;
}

/** The visible window of the filtered view: only `height` rows are ever formatted. */
export function Timeline({ store, top, selected, height, width, absoluteTime, focused, theme }: TimelineProps) {
  const first = firstTimestamp(store);
  const rows = [];
  const end = Math.min(store.view.length, top + height);
  for (let pos = top; pos < end; pos++) {
    const index = store.view[pos]!;
    const r = store.records[index]!;
    const info = 'conn' in r ? store.connectionInfo(r.conn) : undefined;
    const row = formatRow(r, first, absoluteTime, info, width, store.framed);
    const isSelected = pos === selected;
    // A message that a warning or error points at is marked too, not only the finding's own row.
    const flag = store.flag(index);
    const flagged = flag === 'error' || flag === 'warning';
    const color = flagged ? (flag === 'error' ? theme.error : theme.warn) : rowColor(row.kind, theme);
    rows.push(
      <Text key={pos} wrap="truncate" inverse={isSelected} bold={row.kind === 'donthave' || flagged} color={theme.color ? color : undefined}>
        {isSelected ? (focused ? '▶' : '>') : ' '}
        {flagged && row.kind === 'plain' ? '!' : row.marker}
        {row.text}
      </Text>,
    );
  }
  if (store.view.length === 0) rows.push(<Text key="empty">{store.size === 0 ? '  (no records yet)' : '  (no records match)'}</Text>);
  return (
    <Box flexDirection="column" height={height} width={width}>
      {rows}
    </Box>
  );
}

