import { Box, Text } from 'ink';
import type { RecordStore } from '../model/store.js';
import type { EventRecord } from '../model/record.js';
import { escapeText } from '../output/escape.js';
import type { Theme } from './theme.js';

export interface FindingsListProps {
  store: RecordStore;
  /** Position in store.findings. */
  selected: number;
  height: number;
  width: number;
  theme: Theme;
}

/** Every finding so far, one line each; the selected one is the one Enter goes to. */
export function FindingsList({ store, selected, height, width, theme }: FindingsListProps) {
  const body = Math.max(1, height - 1);
  const list = store.findings;
  const top = Math.max(0, Math.min(selected - Math.floor(body / 2), list.length - body));
  const c = store.findingCounts;
  const rows = [];
  for (let i = top; i < Math.min(list.length, top + body); i++) {
    const f = store.record(list[i]!) as EventRecord;
    const color = f.severity === 'error' ? theme.error : f.severity === 'warning' ? theme.warn : theme.dim;
    rows.push(
      <Text key={i} wrap="truncate" inverse={i === selected} color={theme.color ? color : undefined}>
        {i === selected ? '▶ ' : '  '}
        {findingLine(f, width)}
      </Text>,
    );
  }
  if (list.length === 0) rows.push(<Text key="none">{'  (no findings)'}</Text>);
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text bold inverse wrap="truncate">
        {` Findings: ${c.error} errors, ${c.warning} warnings, ${c.info} info (Up/Down, Enter go to its message, Esc back) `}
      </Text>
      {rows}
    </Box>
  );
}

function findingLine(f: EventRecord, width: number): string {
  const head = `${(f.severity ?? 'info').padEnd(7)} ${(f.finding ?? '?').padEnd(28)} #${String(f.conn).padEnd(3)} `;
  return head + escapeText(f.message ?? '', Math.max(0, width - head.length - 2));
}
