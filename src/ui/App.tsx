// The terminal UI's screen: it renders the UI state (ui-state.ts) over the store and hands every key
// to the reducer through step (ui-controller.ts). What a key does is decided there, not here.
import { useMemo, useRef, useState } from 'react';
import { Box, Text, useApp, useInput } from 'ink';
import type { RecordStore } from '../model/store.js';
import { escapeText } from '../output/escape.js';
import { Timeline } from './Timeline.js';
import { DetailsPane } from './DetailsPane.js';
import { HexPane } from './HexPane.js';
import { PieceMapPane } from './PieceMapPane.js';
import { ConnectionPicker } from './ConnectionPicker.js';
import { FindingsList } from './FindingsList.js';
import { StatusLine } from './StatusLine.js';
import { HelpScreen } from './HelpScreen.js';
import { StatsView } from './StatsView.js';
import { FollowView } from './FollowView.js';
import { saveFollowed } from './follow-save.js';
import { addressLegend, COMPACT_WIDTH } from './row-format.js';
import { makeTheme, type Theme } from './theme.js';
import { useStoreVersion } from './use-store-version.js';
import { useTerminalSize } from './use-terminal-size.js';
import { MIN_HEIGHT, MIN_WIDTH, paneWidths } from './layout.js';
import { keyPresses } from './keys.js';
import { initialState, type FilterEditor, type ShareRequest, type UiState } from './ui-state.js';
import { layoutOf, selection, settle } from './ui-selection.js';
import { repaintAtOnce, useViewPass } from './use-view-pass.js';
import { fieldCache, step, storeContext } from './ui-controller.js';

export { MIN_WIDTH, MIN_HEIGHT } from './layout.js';

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
  /** Writes what `w` / `W` asked for; resolves to the line the status shows (the file written, or why not). */
  share?: (request: ShareRequest) => Promise<string>;
}

export function App({ store, title, filter, follow: followAtStart = false, size, theme: givenTheme, refreshMs, share }: AppProps) {
  const { exit } = useApp();
  const { width, height } = useTerminalSize(size);
  const theme = useMemo(() => givenTheme ?? makeTheme(), [givenTheme]);
  useStoreVersion(store, refreshMs);
  // Keys can arrive faster than React re-renders (typed-ahead, pasted, tmux send-keys): the state the
  // next key reads lives in a ref, and the rendered copy follows it.
  const stateRef = useRef<UiState | undefined>(undefined);
  stateRef.current ??= initialState({ filter, conn: store.connection, follow: followAtStart });
  const [state, setState] = useState(stateRef.current);
  const cache = useMemo(fieldCache, []);
  const ctx = storeContext(store, width, height, cache);
  // After each turn of a filter pass: the selection waiting for its record may now be settled; the
  // first screenful and the full result repaint at once (the store's own repaints wait up to refreshMs).
  const shownRef = useRef(0);
  useViewPass(store, () => {
    const settled = settle(stateRef.current!, ctx);
    const shown = store.view.length;
    const now = repaintAtOnce(shownRef.current, shown, layoutOf(settled, ctx).timelineHeight, store.viewProgress === undefined);
    shownRef.current = shown;
    const s = settled === stateRef.current && now ? { ...settled } : settled;
    if (s === stateRef.current) return;
    stateRef.current = s;
    setState(s);
  });

  useInput((input, key) => {
    let s = stateRef.current!;
    for (const k of keyPresses(input, key)) s = step(s, { type: 'key', key: k }, ctx, store);
    shownRef.current = store.view.length;
    if (s.followSave !== undefined) s = { ...s, followSave: undefined, message: saveFollowed(store, ctx.followed(s.followSave).messages, s.followSave) };
    if (s.share !== undefined) {
      const request = s.share;
      s = { ...s, share: undefined };
      const done = (message: string): void => {
        stateRef.current = { ...stateRef.current!, message };
        setState(stateRef.current);
      };
      if (share === undefined) s = { ...s, message: 'writing files is not available here' };
      else share(request).then(done, (err: unknown) => done(`could not write: ${err instanceof Error ? err.message : String(err)}`));
    }
    stateRef.current = s;
    setState(s);
    if (s.quit) exit();
  });

  const { tooSmall, bottomHeight, timelineHeight } = layoutOf(state, ctx);
  const { pos, top, record: index, nodes, fieldIndex } = selection(state, ctx);
  const { mode, focus, editor } = state;
  const record = index === undefined ? undefined : store.record(index);
  const raw = index === undefined ? undefined : store.bytes(index);
  const { details: detailsWidth, hex: hexWidth } = paneWidths(width);
  const selectedConn = store.connection ?? (record !== undefined && 'conn' in record ? record.conn : undefined);
  const pieceMap = selectedConn === undefined || index === undefined ? undefined : store.pieceMap(selectedConn, index);
  // Narrow rows show "#conn ->" instead of the addresses: the selected connection's legend.
  const legend = width < COMPACT_WIDTH && selectedConn !== undefined ? addressLegend(selectedConn, store.connectionInfo(selectedConn)) : undefined;
  const hit = state.searchHit !== undefined && state.searchHit.record === index ? state.searchHit.range : undefined;

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

  const progress = progressText(store);

  return (
    <Box flexDirection="column" width={width} height={height}>
      {mode === 'help' ? (
        <HelpScreen width={width} height={height - 1} />
      ) : mode === 'picker' ? (
        <ConnectionPicker connections={store.connections()} selected={state.pickerSel} height={height - 1} width={width} />
      ) : mode === 'follow' && state.follow !== undefined ? (
        <FollowView store={store} follow={state.follow} info={ctx.followed(state.follow.conn)} width={width} height={height - 1} />
      ) : mode === 'stats' ? (
        <StatsView lines={ctx.statsLines(width)} scroll={state.statsScroll} width={width} height={height - 1} />
      ) : mode === 'findings' ? (
        <FindingsList store={store} selected={state.findingSel} height={height - 1} width={width} theme={theme} />
      ) : (
        <>
          <Timeline store={store} top={top} selected={pos} height={timelineHeight} width={width} time={state.time} timeRef={state.timeRef} focused={focus === 'timeline'} theme={theme} />
          <Box flexDirection="row" height={bottomHeight}>
            <DetailsPane nodes={nodes} selected={fieldIndex} height={bottomHeight} width={detailsWidth} focused={focus === 'details'} theme={theme} />
            <Box width={1} />
            <HexPane bytes={raw?.bytes} total={raw?.total ?? 0} note={raw?.note} highlight={hit ?? nodes[fieldIndex]?.range} height={bottomHeight} width={hexWidth} focused={focus === 'hex'} scroll={state.hexScroll} theme={theme} />
          </Box>
          <PieceMapPane map={pieceMap} conn={selectedConn} width={width} theme={theme} legend={legend} />
          {editor !== undefined ? <FilterEditorLine editor={editor} applied={state.filter} theme={theme} /> : null}
          {state.ask !== undefined ? (
            <Text wrap="truncate">
              {`Decode As: id ${state.ask.extId} toward ${escapeText(state.ask.dst, 46)} is extension: `}
              {escapeText(state.ask.text)}
              <Text inverse> </Text>
              {'  (Enter apply, Esc cancel)'}
            </Text>
          ) : null}
          {state.search !== undefined ? (
            <Text wrap="truncate">
              {state.search.bytes ? 'find bytes (hex): ' : 'find: '}
              {escapeText(state.search.text)}
              <Text inverse> </Text>
              {'  (Enter find next, Esc close)'}
            </Text>
          ) : null}
        </>
      )}
      <StatusLine
        title={title}
        shown={store.view.length}
        total={store.size}
        filter={state.filter}
        conn={state.conn}
        following={state.cursor.follow}
        state={state.message ?? progress}
        width={width}
        findings={store.findingCounts}
        stalls={store.liveStalls.size > 0 ? [...store.liveStalls.values()] : undefined}
      />
    </Box>
  );
}

/** The editor's line, and under it, after Enter on a bad expression, where and why it is bad. */
function FilterEditorLine({ editor, applied, theme }: { editor: FilterEditor; applied: string | undefined; theme: Theme }) {
  const { text, error } = editor;
  return (
    <>
      <Text wrap="truncate">
        /{escapeText(text)}
        <Text inverse> </Text>
        {`  (Enter apply, Esc close, Ctrl-U clear${applied ? `; now: ${escapeText(applied, 30)}` : ''})`}
      </Text>
      {error !== undefined ? (
        <Text wrap="truncate" color={theme.color ? theme.error : undefined}>
          {`bad filter at ${error.position}: ${error.message}: ${escapeText(text.slice(0, error.position), 30)}▶${escapeText(text.slice(error.position), 30)}`}
        </Text>
      ) : null}
    </>
  );
}

/** The status line's progress: a filter pass running, else reading the capture, its end or its error. */
function progressText(store: RecordStore): string {
  const pass = store.viewProgress;
  if (pass !== undefined) return `filtering ${Math.floor((100 * pass.scanned) / Math.max(1, pass.total))}%`;
  if (!store.finished) return 'reading…';
  return store.failure !== undefined ? `error: ${escapeText(store.failure, 60)}` : 'done';
}
