import { Text } from 'ink';
import { statusText, type StatusParts } from './status-text.js';

export type StatusLineProps = StatusParts;

export function StatusLine(props: StatusLineProps) {
  return (
    <Text inverse wrap="truncate">
      {statusText(props)}
    </Text>
  );
}
