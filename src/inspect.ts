// The library API and the capture driver: bytes from a file, stream or buffer through the
// pipeline (and the analyzer) into a RecordSink, or out as an async iterable of records.
import { Pipeline, type PipelineOptions } from './pipeline.js';
import { Analyzer } from './analysis/analyzer.js';
import type { TorrentInfo } from './analysis/torrent.js';
import { decompressIfGzip, InputError, openCaptureStream } from './capture/source.js';
import type { AnyRecord, RecordSink } from './model/record.js';

export interface InspectOptions extends PipelineOptions {
  /** Piece count and hashes for findings (see loadTorrent). */
  torrent?: TorrentInfo;
  /** Add protocol findings (`event: "finding"` records); default true. */
  findings?: boolean;
  /** Seconds of silence on outstanding requests that make a request-stalled finding (default 10). */
  stallSeconds?: number;
  /** Told a connection's piece count once known (torrent or verified metadata); see AnalyzerOptions. */
  onPieceCount?: (conn: number, count: number) => void;
}

export type CaptureSource = string | Uint8Array | AsyncIterable<Uint8Array>;

/** The input could not be read as a capture: missing file, not a capture, unsupported link type. */
export class CaptureError extends Error {
  override name = 'CaptureError';
}

/**
 * Feeds a capture through the pipeline into `sink`. `afterChunk` runs after each input chunk is
 * decoded (flush output there: that is what keeps memory flat). Throws CaptureError when the input
 * cannot be read; a truncated or damaged capture yields a warning record instead.
 */
export async function decodeCapture(
  source: CaptureSource,
  sink: RecordSink,
  options: InspectOptions = {},
  afterChunk?: () => Promise<void> | void,
): Promise<void> {
  const analyzer = options.findings === false ? undefined : new Analyzer(sink, { torrent: options.torrent, stallSeconds: options.stallSeconds, onPieceCount: options.onPieceCount });
  const pipeline = new Pipeline(analyzer?.record ?? sink, { ...options, clock: analyzer?.advance });
  try {
    for await (const chunk of await chunksOf(source, pipeline)) {
      pipeline.push(chunk);
      if (pipeline.fatalError !== undefined || pipeline.done) break;
      await afterChunk?.();
    }
  } catch (err) {
    throw asCaptureError(err);
  }
  if (pipeline.fatalError === undefined) pipeline.end();
  if (pipeline.fatalError !== undefined) throw new CaptureError(pipeline.fatalError);
  analyzer?.finish(pipeline.lastPacket);
  await afterChunk?.();
}

/**
 * `for await (const record of inspect('capture.pcap'))`: the records `--json` prints, as objects.
 * A path ('-' is stdin), the bytes of a capture, or any async iterable of chunks (a Readable).
 */
export async function* inspect(source: CaptureSource, options: InspectOptions = {}): AsyncGenerator<AnyRecord> {
  let pending: AnyRecord[] = [];
  const analyzer = options.findings === false ? undefined : new Analyzer((r) => void pending.push(r), { torrent: options.torrent, stallSeconds: options.stallSeconds, onPieceCount: options.onPieceCount });
  const pipeline = new Pipeline(analyzer?.record ?? ((r) => void pending.push(r)), { ...options, clock: analyzer?.advance });
  try {
    for await (const chunk of await chunksOf(source, pipeline)) {
      pipeline.push(chunk);
      if (pipeline.fatalError !== undefined) throw new CaptureError(pipeline.fatalError);
      yield* pending;
      pending = [];
      if (pipeline.done) break;
    }
  } catch (err) {
    throw asCaptureError(err);
  }
  pipeline.end();
  if (pipeline.fatalError !== undefined) throw new CaptureError(pipeline.fatalError);
  analyzer?.finish(pipeline.lastPacket);
  yield* pending;
}

/** Any source may be gzip-compressed; damage after the first decompressed byte is a warning. */
async function chunksOf(source: CaptureSource, pipeline: Pipeline): Promise<AsyncIterable<Uint8Array>> {
  const onDamage = (message: string, offset: number): void => pipeline.warning(message, offset);
  // The library's '-' (docs/usage.md) is the process's stdin; the program passes its Io.stdin as a stream instead.
  if (typeof source === 'string') return openCaptureStream(source, { onDamage, stdin: source === '-' ? process.stdin : undefined });
  return decompressIfGzip(source instanceof Uint8Array ? single(source) : source, { onDamage });
}

/** Unreadable input (missing file, corrupt gzip) reaches library users as the documented CaptureError. */
function asCaptureError(err: unknown): unknown {
  return err instanceof InputError ? new CaptureError(err.message, { cause: err.cause ?? err }) : err;
}

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
