import { useMemo, useRef, useState } from 'react';
import { Box, Text, useApp, useInput, type Key } from 'ink';
import type { RecordStore } from '../model/store.js';
import { compileFilter } from '../model/filter.js';
import { escapeText } from '../output/escape.js';
import { Timeline } from './Timeline.js';
import { DetailsPane } from './DetailsPane.js';
import { HexPane, hexScrollRange } from './HexPane.js';
import { PieceMapPane } from './PieceMapPane.js';
import { ConnectionPicker } from './ConnectionPicker.js';
import { FindingsList } from './FindingsList.js';
import { StatusLine } from './StatusLine.js';
import { HelpScreen } from './HelpScreen.js';
import { fieldTree } from './field-tree.js';
import { makeTheme, type Theme } from './theme.js';
import { useStoreVersion } from './use-store-version.js';
import { useTerminalSize } from './use-terminal-size.js';
import { MIN_HEIGHT, MIN_WIDTH, screenLayout } from './layout.js';

export { MIN_WIDTH, MIN_HEIGHT } from './layout.js';

type Pane = 'timeline' | 'details' | 'hex';
type Mode = 'normal' | 'filter' | 'picker' | 'findings' | 'help';
const PANES: Pane[] = ['timeline', 'details', 'hex'];

export interface AppProps {
  store: RecordStore;
  title: string;
  /** Filter already applied to the store at start. */
  filter?: string;
  /** Start following new records (live data). */
  follow?: boolean;
  /** Fixed size (tests); otherwise the terminal's, updated on resize. */
  size?: { width: number; height: number };
  theme?: Theme;
  /** Re-render throttle for store updates, in ms. */
  refreshMs?: number;
}

export function App({ store, title, filter, follow: followAtStart = false, size, theme: givenTheme, refreshMs }: AppProps) {
  const { exit } = useApp();
  const { width, height } = useTerminalSize(size);
  const theme = useMemo(() => givenTheme ?? makeTheme(), [givenTheme]);
  useStoreVersion(store, refreshMs);
  const [, setTick] = useState(0);
  const [cursor, setCursor] = useState({ pos: 0, top: 0, follow: followAtStart });
  const [focus, setFocusState] = useState<Pane>('timeline');
  const focusRef = useRef<Pane>('timeline');
  const setFocus = (f: Pane): void => {
    focusRef.current = f;
    setFocusState(f);
  };
  const [field, setField] = useState<{ record: number; index: number } | undefined>(undefined);
  const [hexScroll, setHexScroll] = useState(0);
  // Keys can arrive faster than React re-renders (typed-ahead, pasted, tmux send-keys): what the
  // next key depends on lives in refs as well as state, so it never reads a stale value.
  const [mode, setModeState] = useState<Mode>('normal');
  const modeRef = useRef<Mode>('normal');
  const setMode = (m: Mode): void => {
    modeRef.current = m;
    setModeState(m);
  };
  const [applied, setApplied] = useState<string | undefined>(filter);
  const [draft, setDraftState] = useState('');
  const draftRef = useRef('');
  const setDraft = (d: string): void => {
    draftRef.current = d;
    setDraftState(d);
  };
  const [filterError, setFilterError] = useState<{ error: string; position: number; expr: string } | undefined>(undefined);
  const [absoluteTime, setAbsoluteTime] = useState(false);
  const [pickerSel, setPickerSelState] = useState(0);
  const pickerRef = useRef(0);
  const setPickerSel = (f: number | ((s: number) => number)): void => {
    pickerRef.current = typeof f === 'function' ? f(pickerRef.current) : f;
    setPickerSelState(pickerRef.current);
  };
  const [findingSel, setFindingSelState] = useState(0);
  const findingRef = useRef(0);
  const setFindingSel = (f: number | ((s: number) => number)): void => {
    findingRef.current = typeof f === 'function' ? f(findingRef.current) : f;
    setFindingSelState(findingRef.current);
  };
  const [message, setMessage] = useState<string | undefined>(undefined);

  const { tooSmall, bottomHeight, timelineHeight } = screenLayout(width, height, mode === 'filter' || filterError !== undefined ? 1 : 0);
  const viewLength = store.view.length;

  // Where the selection is now: following pins it to the last row.
  let { pos, top } = cursor;
  if (cursor.follow) pos = Math.max(0, viewLength - 1);
  pos = Math.max(0, Math.min(pos, viewLength - 1));
  top = clampTop(top, pos, timelineHeight, viewLength);

  const posRef = useRef(pos);
  posRef.current = pos;
  const index = store.view[pos];
  const record = index === undefined ? undefined : store.records[index];
  const nodes = useMemo(() => (record === undefined ? [] : fieldTree(record)), [record]);
  const fieldIndex = field !== undefined && field.record === index ? field.index : defaultField(nodes);
  const fieldRef = useRef(fieldIndex);
  fieldRef.current = fieldIndex;
  const raw = index === undefined ? undefined : store.bytes(index);
  const detailsWidth = Math.max(30, Math.floor(width * 0.45));
  const hexWidth = width - detailsWidth - 1;
  const selectedConn = store.connection ?? (record !== undefined && 'conn' in record ? record.conn : undefined);
  const pieceMap = selectedConn === undefined || index === undefined ? undefined : store.pieceMap(selectedConn, index);

  const moveTo = (next: number, follow = false): void => {
    const p = Math.max(0, Math.min(next, store.view.length - 1));
    posRef.current = p;
    setCursor({ pos: p, top: clampTop(top, p, timelineHeight, store.view.length), follow: follow || p >= store.view.length - 1 });
    setHexScroll(0);
    setMessage(undefined);
  };

  const keepSelectionAcrossViewChange = (recordIndex: number | undefined): void => {
    const p = Math.max(0, recordIndex === undefined ? 0 : Math.min(store.viewPositionAtOrAfter(recordIndex), store.view.length - 1));
    posRef.current = p;
    setCursor({ pos: Math.max(0, p), top: clampTop(top, Math.max(0, p), timelineHeight, store.view.length), follow: false });
    setTick((t) => t + 1);
  };

  /** n/N, f/F: the next or previous row of a kind, wrapping around once. */
  const jump = (dir: 1 | -1, what: string, find: (from: number, dir: 1 | -1) => number): void => {
    const pos = posRef.current;
    const found = find(pos, dir);
    if (found >= 0) return moveTo(found);
    const wrapped = find(dir === 1 ? -1 : store.view.length, dir);
    if (wrapped >= 0 && wrapped !== pos) {
      moveTo(wrapped);
      setMessage(dir === 1 ? `wrapped to the first ${what}` : `wrapped to the last ${what}`);
      return;
    }
    // Unresolved ids that are probably lt_donthave are not jumped to: say how to see them.
    const probable = what === 'lt_donthave' && store.probableDonthave > 0 ? ` (${store.probableDonthave} probable: /probably == lt_donthave)` : '';
    setMessage((wrapped === pos ? `no other ${what}` : `no ${what} in view`) + probable);
  };

  /** From the findings list: select the message the finding points at (or the finding itself). */
  const goToFinding = (finding: number): void => {
    const target = store.findingTarget(finding) ?? finding;
    const p = store.viewPositionAtOrAfter(target);
    if (store.view[p] === target) return moveTo(p);
    const own = store.viewPositionAtOrAfter(finding);
    if (store.view[own] === finding) {
      moveTo(own);
      setMessage("the finding's message is hidden by the filter; showing the finding");
      return;
    }
    moveTo(Math.min(p, store.view.length - 1));
    setMessage('that finding is hidden by the filter or connection choice; showing the nearest row');
  };

  const applyFilter = (expr: string): void => {
    const current = store.view[posRef.current];
    if (expr.trim() === '') {
      store.setFilter(undefined);
      setApplied(undefined);
      setFilterError(undefined);
      keepSelectionAcrossViewChange(current);
      return;
    }
    const compiled = compileFilter(expr);
    if (!compiled.ok) {
      setFilterError({ error: compiled.error, position: compiled.position, expr });
      return;
    }
    store.setFilter(compiled.test);
    setApplied(expr);
    setFilterError(undefined);
    keepSelectionAcrossViewChange(current);
  };

  const handleKey = (input: string, key: Key): void => {
    if (key.ctrl && input === 'c') {
      exit();
      return;
    }
    const mode = modeRef.current;
    const draft = draftRef.current;
    const pos = posRef.current;
    if (mode === 'help') {
      setMode('normal');
      return;
    }
    if (mode === 'filter') {
      // A pasted or fast-typed chunk can arrive whole, Enter included.
      const enter = input.search(/[\r\n]/);
      if (key.return || enter >= 0) {
        applyFilter(draft + (enter > 0 ? clean(input.slice(0, enter)) : ''));
        setMode('normal');
      } else if (key.escape) {
        setDraft('');
        applyFilter('');
        setMode('normal');
      } else if (key.backspace || key.delete) {
        setDraft(draft.slice(0, -1));
      } else if (input && !key.ctrl && !key.meta) {
        setDraft(draft + clean(input));
      }
      return;
    }
    if (mode === 'picker') {
      const count = store.connections().length + 1;
      if (key.upArrow || input === 'k') setPickerSel((s) => Math.max(0, s - 1));
      else if (key.downArrow || input === 'j') setPickerSel((s) => Math.min(count - 1, s + 1));
      else if (key.escape || input === 'q') setMode('normal');
      else if (key.return) {
        const chosen = pickerRef.current === 0 ? undefined : store.connections()[pickerRef.current - 1]?.conn;
        const current = store.view[pos];
        store.setConnection(chosen);
        keepSelectionAcrossViewChange(current);
        setMode('normal');
      }
      return;
    }
    if (mode === 'findings') {
      const count = store.findings.length;
      const page = Math.max(1, height - 3);
      if (key.upArrow || input === 'k') setFindingSel((s) => Math.max(0, s - 1));
      else if (key.downArrow || input === 'j') setFindingSel((s) => Math.min(count - 1, s + 1));
      else if (key.pageUp) setFindingSel((s) => Math.max(0, s - page));
      else if (key.pageDown) setFindingSel((s) => Math.min(count - 1, s + page));
      else if (key.escape || input === 'q' || input === '!') setMode('normal');
      else if (key.return) {
        setMode('normal');
        const finding = store.findings[findingRef.current];
        if (finding !== undefined) goToFinding(finding);
      }
      return;
    }
    if (tooSmall) {
      if (input === 'q') exit();
      return;
    }
    if (input === 'q') return exit();
    if (input === '?') return setMode('help');
    if (input.startsWith('/')) {
      const rest = input.slice(1);
      const enter = rest.search(/[\r\n]/);
      if (enter >= 0) return applyFilter(clean(rest.slice(0, enter)));
      setDraft(clean(rest));
      setMode('filter');
      return;
    }
    if (input === 'c') {
      const conns = store.connections();
      const at = store.connection === undefined ? 0 : conns.findIndex((c) => c.conn === store.connection) + 1;
      setPickerSel(Math.max(0, at));
      setMode('picker');
      return;
    }
    if (input === 't') return setAbsoluteTime((a) => !a);
    if (input === '!') {
      // Open on the finding at or after the selected row.
      const at = store.findings.findIndex((f) => f >= (store.view[pos] ?? 0));
      setFindingSel(at >= 0 ? at : Math.max(0, store.findings.length - 1));
      setMode('findings');
      return;
    }
    const focus = focusRef.current;
    if (key.tab) return setFocus(PANES[(PANES.indexOf(focus) + (key.shift ? 2 : 1)) % 3]!);
    if (key.return) return setFocus(focus === 'timeline' ? 'details' : 'timeline');
    if (input === 'n' || input === 'N') return jump(input === 'n' ? 1 : -1, 'lt_donthave', (from, dir) => store.findDonthave(from, dir));
    if (input === 'f' || input === 'F') return jump(input === 'f' ? 1 : -1, 'finding', (from, dir) => store.findFinding(from, dir));
    const page = Math.max(1, timelineHeight - 1);
    if (focus === 'details') {
      const moveField = (to: number): void => {
        fieldRef.current = Math.max(0, Math.min(nodes.length - 1, to));
        setField({ record: index ?? -1, index: fieldRef.current });
      };
      if (key.upArrow || input === 'k') moveField(fieldRef.current - 1);
      else if (key.downArrow || input === 'j') moveField(fieldRef.current + 1);
      else if (key.escape) setFocus('timeline');
      return;
    }
    if (focus === 'hex') {
      const range = hexScrollRange(raw?.bytes.length ?? 0, hexWidth, bottomHeight, nodes[fieldIndex]?.range, raw !== undefined && raw.bytes.length < raw.total);
      const bound = (s: number): number => Math.max(range.min, Math.min(range.max, s));
      const scrollTo = (f: (s: number) => number): void => setHexScroll((s) => bound(f(bound(s))));
      const hexPage = Math.max(1, bottomHeight - 2);
      if (key.upArrow || input === 'k') scrollTo((s) => s - 1);
      else if (key.downArrow || input === 'j') scrollTo((s) => s + 1);
      else if (key.pageUp) scrollTo((s) => s - hexPage);
      else if (key.pageDown) scrollTo((s) => s + hexPage);
      else if (key.home || input === 'g') scrollTo(() => range.min);
      else if (key.end || input === 'G') scrollTo(() => range.max);
      else if (key.escape) setFocus('timeline');
      return;
    }
    if (key.upArrow || input === 'k') moveTo(pos - 1);
    else if (key.downArrow || input === 'j') moveTo(pos + 1);
    else if (key.pageUp) moveTo(pos - page);
    else if (key.pageDown) moveTo(pos + page);
    else if (key.home || input === 'g') moveTo(0);
    else if (key.end || input === 'G') moveTo(store.view.length - 1, true);
  };

  useInput((input, key) => {
    // Keys typed faster than they are read (tmux send-keys, a held key, a paste) arrive as one string:
    // outside the filter prompt, which takes text, each character is a key of its own.
    if (modeRef.current !== 'filter' && input.length > 1 && !key.ctrl && !key.meta && !input.startsWith('/')) {
      // Enter and Tab are the control characters that come that way; ink flags them only when alone.
      for (const ch of input) handleKey(ch === '\r' || ch === '\t' ? '' : ch, { ...key, return: ch === '\r', tab: ch === '\t' });
      return;
    }
    handleKey(input, key);
  });

  if (tooSmall) {
    return (
      <Box flexDirection="column">
        <Text wrap="truncate">Terminal too small:</Text>
        <Text wrap="truncate">need {MIN_WIDTH}x{MIN_HEIGHT},</Text>
        <Text wrap="truncate">
          have {width}x{height}.
        </Text>
        <Text wrap="truncate">Resize, or q to quit.</Text>
      </Box>
    );
  }

  const state = store.finished ? (store.failure !== undefined ? `error: ${escapeText(store.failure, 60)}` : 'done') : 'reading…';

  return (
    <Box flexDirection="column" width={width} height={height}>
      {mode === 'help' ? (
        <HelpScreen width={width} height={height - 1} />
      ) : mode === 'picker' ? (
        <ConnectionPicker connections={store.connections()} selected={pickerSel} height={height - 1} width={width} />
      ) : mode === 'findings' ? (
        <FindingsList store={store} selected={findingSel} height={height - 1} width={width} theme={theme} />
      ) : (
        <>
          <Timeline store={store} top={top} selected={pos} height={timelineHeight} width={width} absoluteTime={absoluteTime} focused={focus === 'timeline'} theme={theme} />
          <Box flexDirection="row" height={bottomHeight}>
            <DetailsPane nodes={nodes} selected={fieldIndex} height={bottomHeight} width={detailsWidth} focused={focus === 'details'} theme={theme} />
            <Box width={1} />
            <HexPane bytes={raw?.bytes} total={raw?.total ?? 0} note={raw?.note} highlight={nodes[fieldIndex]?.range} height={bottomHeight} width={hexWidth} focused={focus === 'hex'} scroll={hexScroll} theme={theme} />
          </Box>
          <PieceMapPane map={pieceMap} conn={selectedConn} width={width} theme={theme} />
          {mode === 'filter' ? (
            <Text wrap="truncate">
              /{escapeText(draft)}
              <Text inverse> </Text>
              {`  (Enter apply, Esc clear${applied ? `; now: ${escapeText(applied, 30)}` : ''})`}
            </Text>
          ) : null}
          {filterError !== undefined ? (
            <Text wrap="truncate" color={theme.color ? theme.error : undefined}>
              {`bad filter at ${filterError.position}: ${filterError.error}: ${escapeText(filterError.expr.slice(0, filterError.position), 30)}▶${escapeText(filterError.expr.slice(filterError.position), 30)}`}
            </Text>
          ) : null}
        </>
      )}
      <StatusLine
        title={title}
        shown={viewLength}
        total={store.size}
        filter={applied}
        conn={store.connection}
        following={cursor.follow}
        state={message ?? state}
        width={width}
        findings={store.findingCounts}
      />
    </Box>
  );
}

function clean(input: string): string {
  return input.replace(/[\x00-\x1f\x7f]/g, '');
}

function clampTop(top: number, pos: number, height: number, length: number): number {
  let t = top;
  if (pos < t) t = pos;
  if (pos >= t + height) t = pos - height + 1;
  return Math.max(0, Math.min(t, Math.max(0, length - height)));
}

/** The field the hex pane highlights when a row is first selected: the piece if it has known bytes. */
function defaultField(nodes: { label: string; range?: [number, number] }[]): number {
  const piece = nodes.findIndex((n) => n.label === 'piece' && n.range !== undefined);
  return piece >= 0 ? piece : 0;
}
