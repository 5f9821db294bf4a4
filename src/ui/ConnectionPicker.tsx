import { Box, Text } from 'ink';
import type { ConnectionInfo } from '../model/store.js';
import { escapeText } from '../output/escape.js';

export interface ConnectionPickerProps {
  connections: ConnectionInfo[];
  /** 0 = all connections, k = connections[k - 1]. */
  selected: number;
  height: number;
  width: number;
}

export function ConnectionPicker({ connections, selected, height, width }: ConnectionPickerProps) {
  const body = Math.max(1, height - 2);
  const entries = [{ key: 'all', text: 'all connections' }].concat(
    connections.map((c) => ({ key: String(c.conn), text: describeConnection(c) })),
  );
  const top = Math.max(0, Math.min(selected - Math.floor(body / 2), entries.length - body));
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text bold inverse wrap="truncate">
        {' Pick a connection (Up/Down, Enter choose, Esc cancel) '}
      </Text>
      {entries.slice(top, top + body).map((e, i) => (
        <Text key={e.key} wrap="truncate" inverse={top + i === selected}>
          {top + i === selected ? '▶ ' : '  '}
          {e.text}
        </Text>
      ))}
    </Box>
  );
}

export function describeConnection(c: ConnectionInfo): string {
  const side = (s: 0 | 1): string => {
    const ext = c.extensions[s].length > 0 ? ` [${c.extensions[s].join(',')}]` : '';
    return `${escapeText(c.addr[s], 48)} ${c.client[s] ?? '?'}${ext} ${c.messages[s]} msgs${c.donthave[s] > 0 ? `, ${c.donthave[s]} donthave` : ''}`;
  };
  return `#${c.conn} ${c.transport}  ${side(0)}  ⇄  ${side(1)}`;
}
