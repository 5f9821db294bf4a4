// `--export FILE`: every packet of the chosen connections, copied from the capture into a new one.
// The decoding pass records which flow each packet went to (FlowLog, a PacketObserver); a second
// read of the same input (the file again, or stdin's spool) copies the packets whose flow became a
// chosen connection, with their link type, lengths and timestamps as stored (pcap, or pcapng when
// the name ends in .pcapng).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { CaptureReader } from './capture-reader.js';
import { openCaptureStream } from './source.js';
import type { CapturedPacket, ExactTime, FramePacket } from './types.js';
import type { ByteSource } from '../model/store.js';
import type { PacketObserver } from '../pipeline.js';
import { pcapFileHeader, pcapFraction, pcapRecordHeader, pcapngInterface, pcapngPacket, pcapngSectionHeader } from './pcap-writer.js';

/** The export cannot be written as asked (one line, for the user). */
export class ExportError extends Error {
  override name = 'ExportError';
}

/**
 * Which flow each packet went to, 4 bytes per packet (a 10-million-packet capture: 40 MB), and
 * which flows became BitTorrent connections.
 */
export class FlowLog implements PacketObserver {
  private flowOf = new Uint32Array(1 << 12);
  /** With `frames`: each packet's data offset, captured length and link type (14 bytes a packet), for the details pane. */
  private readonly frames: FrameIndex | undefined;
  private readonly connOf = new Map<number, number>();
  private readonly flowsOf = new Map<number, number[]>();
  packets = 0;

  constructor(options: { frames?: boolean } = {}) {
    this.frames = options.frames === true ? new FrameIndex() : undefined;
  }

  /** Where packet `frame` lies in the capture stream, when `frames` was asked for and it was seen. */
  frame(frame: number): FrameLocation | undefined {
    return this.frames?.locate(frame);
  }

  packet(p: CapturedPacket, flow: number): void {
    this.frames?.add(p);
    if (p.index >= this.flowOf.length) {
      const grown = new Uint32Array(Math.max(this.flowOf.length * 2, p.index + 1));
      grown.set(this.flowOf);
      this.flowOf = grown;
    }
    this.flowOf[p.index] = flow;
    this.packets = Math.max(this.packets, p.index);
  }

  connection(flow: number, conn: number): void {
    this.connOf.set(flow, conn);
  }

  /** The connection packet `index` (1-based) belongs to, 0 for none. */
  connOfPacket(index: number): number {
    const flow = this.flowOf[index] ?? 0;
    return flow === 0 ? 0 : (this.connOf.get(flow) ?? 0);
  }
}

export interface FrameLocation {
  dataOffset: number;
  length: number;
  linkType: number;
}

/** Frame number -> where its captured bytes are, in growable typed arrays (no per-packet objects). */
class FrameIndex {
  private offsets = new Float64Array(1 << 12);
  private lengths = new Uint32Array(1 << 12);
  private links = new Uint16Array(1 << 12);

  add(p: CapturedPacket): void {
    if (p.index >= this.offsets.length) {
      const size = Math.max(this.offsets.length * 2, p.index + 1);
      const offsets = new Float64Array(size);
      offsets.set(this.offsets);
      const lengths = new Uint32Array(size);
      lengths.set(this.lengths);
      const links = new Uint16Array(size);
      links.set(this.links);
      [this.offsets, this.lengths, this.links] = [offsets, lengths, links];
    }
    this.offsets[p.index] = p.dataOffset;
    this.lengths[p.index] = p.data.length;
    this.links[p.index] = p.linkType;
  }

  locate(frame: number): FrameLocation | undefined {
    const length = this.lengths[frame];
    // Length 0: a frame never seen (or empty), nothing to decode.
    if (length === undefined || length === 0) return undefined;
    return { dataOffset: this.offsets[frame]!, length, linkType: this.links[frame]! };
  }
}

/** The details tree's packet reader: a frame's captured bytes, read back from the file by the FlowLog's index. */
export function frameReader(flows: FlowLog, source: ByteSource): (frame: number) => FramePacket | string {
  return (frame) => {
    const at = flows.frame(frame);
    if (at === undefined) return `frame ${frame} was not indexed`;
    const data = source.read(at.dataOffset, at.length);
    return data === undefined ? `frame ${frame} could not be read back from the capture file` : { linkType: at.linkType, data };
  };
}

export type ExportFormat = 'pcap' | 'pcapng';

export function exportFormatOf(path: string): ExportFormat {
  return /\.pcapng$/i.test(path) ? 'pcapng' : 'pcap';
}

/**
 * Sans-I/O: packets in, file bytes out. pcap holds one link type and one time unit, fixed by the
 * first packet; pcapng gets an interface per link type and unit.
 */
export class CaptureEncoder {
  private linkType = -1;
  private nano = false;
  private readonly interfaces = new Map<string, number>();
  packets = 0;

  constructor(private readonly format: ExportFormat) {}

  /** The blocks to write for this packet (a file header first). Throws ExportError. */
  packet(p: CapturedPacket, time: ExactTime): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.format === 'pcap') {
      if (this.linkType === -1) {
        this.linkType = p.linkType;
        this.nano = time.nano;
        out.push(pcapFileHeader(p.linkType, time.nano));
      } else if (p.linkType !== this.linkType) {
        throw new ExportError(`the connections' packets have link types ${this.linkType} and ${p.linkType}; a pcap holds one: name the file .pcapng`);
      }
      // The packet's bytes are a view into the reader's buffer, valid during its call: copied.
      out.push(pcapRecordHeader(time.sec, pcapFraction(time, this.nano), p.data.length, p.origLen), p.data.slice());
    } else {
      if (this.packets === 0) out.push(pcapngSectionHeader());
      const key = `${p.linkType}/${time.nano}`;
      let id = this.interfaces.get(key);
      if (id === undefined) {
        id = this.interfaces.size;
        this.interfaces.set(key, id);
        out.push(pcapngInterface(p.linkType, time.nano));
      }
      out.push(pcapngPacket(id, time, time.nano, p.data, p.origLen));
    }
    this.packets++;
    return out;
  }

  /** A file with no packet still gets a header (Ethernet), so that it opens as an empty capture. */
  empty(): Uint8Array[] {
    return this.packets > 0 ? [] : this.format === 'pcap' ? [pcapFileHeader(1, false)] : [pcapngSectionHeader()];
  }
}

export interface ExportResult {
  packets: number;
  bytes: number;
}

/**
 * Reads `input` (a capture file, or the spool of stdin) again and writes to `out` the packets for
 * which `keep(index)` holds. The file is written with backpressure; on failure it is left partial
 * and the error thrown (ExportError, or the file system's).
 */
export async function writeExport(input: string, out: string, keep: (index: number) => boolean): Promise<ExportResult> {
  const encoder = new CaptureEncoder(exportFormatOf(out));
  const file = createWriteStream(out);
  const failed = once(file, 'error').then(([err]) => Promise.reject(err as Error));
  failed.catch(() => undefined);
  await Promise.race([once(file, 'ready'), failed]);
  let pending: Uint8Array[] = [];
  let bytes = 0;
  let problem: ExportError | undefined;
  const reader = new CaptureReader({
    packet: (p) => {
      if (problem !== undefined || !keep(p.index)) return;
      try {
        pending.push(...encoder.packet(p, reader.exactTime()));
      } catch (err) {
        if (!(err instanceof ExportError)) throw err;
        problem = err;
      }
    },
    warning: () => undefined,
    fatal: () => undefined,
  });
  // One write per input chunk, not two per packet.
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const joined = Buffer.concat(pending);
    pending = [];
    bytes += joined.length;
    if (!file.write(joined)) await Promise.race([once(file, 'drain'), failed]);
  };
  try {
    for await (const chunk of await openCaptureStream(input)) {
      reader.push(chunk);
      if (problem !== undefined) throw problem;
      await flush();
    }
    reader.end();
    pending.push(...encoder.empty());
    await flush();
  } finally {
    await new Promise<void>((resolve) => file.end(() => resolve()));
  }
  return { packets: encoder.packets, bytes };
}
