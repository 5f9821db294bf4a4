import { Box, Text } from 'ink';
import type { RecordStore } from '../model/store.js';
import { bytesLines, ladderHeader, ladderLines } from './follow.js';
import { followBody, followPerLine } from './follow-keys.js';

export interface FollowViewProps {
  store: RecordStore;
  follow: { conn: number; pane: 'ladder' | 'bytes'; scroll: number };
  info: { messages: readonly number[]; ladder: number; bytes: number };
  width: number;
  height: number;
}

/** o: one connection as a ladder (A left, B right) or its bytes both ways, only the lines on screen. */
export function FollowView({ store, follow, info, width, height }: FollowViewProps) {
  const body = followBody({ height: height + 1 });
  const { conn, pane, scroll } = follow;
  const lines =
    pane === 'ladder'
      ? ladderLines(store, conn, info.messages, scroll, body, width)
      : bytesLines(store, conn, info.messages, scroll, body, followPerLine(width));
  const total = pane === 'ladder' ? info.ladder : info.bytes;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold inverse wrap="truncate">
        {` Follow #${conn}: ${pane === 'ladder' ? 'messages' : 'bytes both ways'}, lines ${Math.min(total, scroll + 1)}-${Math.min(total, scroll + body)} of ${total}  Tab ${pane === 'ladder' ? 'bytes' : 'ladder'}  w save bytes  Esc back `}
      </Text>
      <Text wrap="truncate">{pane === 'ladder' ? ladderHeader(store, conn, width) : ' A is the first peer seen (normally the initiator)'}</Text>
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate">
          {line}
        </Text>
      ))}
    </Box>
  );
}
