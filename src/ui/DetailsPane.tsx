import { Box, Text } from 'ink';
import type { FieldNode } from './field-tree.js';
import type { Theme } from './theme.js';

export interface DetailsPaneProps {
  nodes: readonly FieldNode[];
  selected: number;
  height: number;
  width: number;
  focused: boolean;
  theme: Theme;
}

export function DetailsPane({ nodes, selected, height, width, focused, theme }: DetailsPaneProps) {
  const body = height - 1;
  const top = Math.max(0, Math.min(selected - Math.floor(body / 2), nodes.length - body));
  const shown = nodes.slice(top, top + body);
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text inverse={focused} bold wrap="truncate">
        {' Details '}
      </Text>
      {shown.map((n, i) => {
        const index = top + i;
        const isSelected = focused && index === selected;
        return (
          <Text key={index} wrap="truncate" inverse={isSelected} bold={n.heading === true} color={theme.color && n.range ? theme.accent : undefined}>
            {'  '.repeat(n.depth)}
            {n.label}: {n.value}
            {/* Where the field lies in the message (Wireshark's byte offsets); the bytes pane highlights it. */}
            {n.range !== undefined ? `  [${n.range[0]}..${n.range[1] - 1}]` : ''}
          </Text>
        );
      })}
      {nodes.length === 0 ? <Text>(nothing selected)</Text> : null}
    </Box>
  );
}
