import { Box, Text } from 'ink';

export const HELP_LINES: [string, string][] = [
  ['Up/Down, j/k', 'move one row (or one field in the details pane)'],
  ['PgUp/PgDn', 'move one page'],
  ['Home/End, g/G', 'first / last row (End follows live data)'],
  ['Tab', 'cycle panes: timeline, details, bytes'],
  ['  in bytes', 'j/k, PgUp/PgDn, g/G scroll the whole message (read back from the file)'],
  ['Enter', 'open the details of the selected row'],
  ['/', 'edit the filter in force: Enter applies, Esc closes (keeps it), Ctrl-U empties; Esc while filtering N% cancels'],
  ['n / N', 'next / previous lt_donthave'],
  ['f / F', 'next / previous finding'],
  ['!', 'the list of findings: Enter goes to the message it points at'],
  ['c', 'pick a connection'],
  ['t', 'time: since the capture start (or reference), since the previous row, UTC'],
  ['T', 'the selected row becomes the time reference (*); T on it again clears'],
  ['m<letter>', "mark the selected row; '<letter> goes back to it"],
  ['Ctrl-F', 'find text in the records (fields, peer strings); hex bytes when the bytes pane has focus; Enter: next'],
  ['d', 'Decode As: on an unresolved ext#N, name its extension for that direction of the connection'],
  ['o', 'follow the connection: ladder of its messages; Tab its bytes both ways; w saves them; Esc back'],
  ['s', 'Statistics: conversations, message types per direction, IO graph (Esc closes)'],
  ['w', 'write a capture (pcap) of the picked connection, the filtered view, or the selected row\'s'],
  ['W', 'write the HTML report of the same connections'],
  ['?', 'this help (any key closes it)'],
  ['q, Ctrl-C', 'quit'],
  ['', ''],
  ['Filter', 'lt_donthave   piece == 30   conn == 2   port == 6881'],
  ['', 'ip == 10.0.0.2   client ~ libtorrent   not have'],
  ['', 'combine with and, or, not, ( )'],
  ['Columns', 'time since the first packet, frame (the packet number in Wireshark), connection, direction, message'],
  ['Markers', '◆ lt_donthave  ? unresolved id  ✗ malformed  ~ gap/resync  ! finding, or a message a warning/error points at'],
];

export function HelpScreen({ width, height }: { width: number; height: number }) {
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold inverse>
        {' ltdh-inspect keys '}
      </Text>
      {helpLines(height - 1).map(([k, v], i) => (
        <Text key={i} wrap="truncate">
          {'  ' + k.padEnd(16) + v}
        </Text>
      ))}
    </Box>
  );
}

/** Every key first: on a short terminal the filter and marker notes after the keys give way. */
function helpLines(rows: number): [string, string][] {
  if (HELP_LINES.length <= rows) return HELP_LINES;
  const keys = HELP_LINES.slice(0, HELP_LINES.findIndex(([k]) => k === ''));
  return keys.slice(0, rows);
}
