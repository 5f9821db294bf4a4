import { Box, Text } from 'ink';
import type { RecordStore } from '../model/store.js';
import { firstTimestamp, formatRow } from './row-format.js';
import type { RowTime } from '../output/time-format.js';
import type { TimeDisplay } from './habit-keys.js';
import { rowStyle, type Theme } from './theme.js';

export interface TimelineProps {
  store: RecordStore;
  top: number;
  selected: number;
  height: number;
  width: number;
  /** `t`: since the start (or `timeRef`'s time), since the previous row shown, or UTC. */
  time: TimeDisplay;
  timeRef: number | undefined;
  focused: boolean;
  theme: Theme;
}

/** The visible window of the filtered view: only `height` rows are ever formatted. */
export function Timeline({ store, top, selected, height, width, time, timeRef, focused, theme }: TimelineProps) {
  const base = (timeRef !== undefined ? store.record(timeRef)?.ts : undefined) ?? firstTimestamp(store);
  const rows = [];
  const end = Math.min(store.view.length, top + height);
  for (let pos = top; pos < end; pos++) {
    const index = store.view[pos]!;
    const r = store.record(index)!;
    const info = 'conn' in r ? store.connectionInfo(r.conn) : undefined;
    const above = pos > 0 ? store.record(store.view[pos - 1]!)?.ts : undefined;
    const clock: RowTime = { display: time, base, previous: above };
    const row = formatRow(r, clock, info, width, store.framed);
    const isSelected = pos === selected;
    const style = rowStyle(row, store.flag(index), theme);
    rows.push(
      <Text key={pos} wrap="truncate" inverse={isSelected} bold={style.bold} color={style.color}>
        {isSelected ? (focused ? '▶' : '>') : index === timeRef ? '*' : ' '}
        {style.marker}
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

