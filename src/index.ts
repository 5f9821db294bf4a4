// The library API: the same records `--json` prints, for people testing their own BitTorrent client
// against captures. See README "Library".
export { inspect, decodeCapture, CaptureError, type InspectOptions, type CaptureSource } from './inspect.js';
export { Pipeline, type PipelineOptions } from './pipeline.js';
export { BtConnection } from './bittorrent/connection.js';
export type { BtContext } from './bittorrent/types.js';
export type { FlowInfo, StreamHandler } from './transport/types.js';
export { loadTorrent, type TorrentInfo } from './analysis/torrent.js';
export { compileFilter } from './model/filter.js';
export { isMessage } from './model/record.js';
export type * from './model/record.js';
