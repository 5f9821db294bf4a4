import { Box, Text } from 'ink';

/** The Statistics view (s): the lines of src/output/stats-text.ts, scrolled; already escaped. */
export function StatsView({ lines, scroll, width, height }: { lines: readonly string[]; scroll: number; width: number; height: number }) {
  const body = Math.max(1, height - 1);
  const shown = lines.slice(scroll, scroll + body);
  const more = lines.length > body ? `  lines ${scroll + 1}-${Math.min(lines.length, scroll + body)} of ${lines.length}, j/k PgUp/PgDn scroll` : '';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold inverse wrap="truncate">
        {` Statistics of the rows in view (filter and connection apply)${more}  Esc/s closes `}
      </Text>
      {shown.map((line, i) => (
        <Text key={i} wrap="truncate">
          {line === '' ? ' ' : line}
        </Text>
      ))}
    </Box>
  );
}
