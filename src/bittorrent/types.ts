// Contract between the transports/pipeline/proxy and the BitTorrent decoder.
import type { RecordSink } from '../model/record.js';
import type { AdvertisedMappings, GivenMappings } from './extensions.js';

export interface BtContext {
  /** Where the connection's records go, in order. */
  sink: RecordSink;
  /** Hands out the next connection number; called once, when the flow is confirmed to be BitTorrent. */
  assignConn(): number;
  /** `--port` hint matched this flow: decode it even when its start was not captured. */
  portHint: boolean;
  /** Pass each message's ByteExtents to the sink (the capture offsets its bytes were read from). */
  locate?: boolean;
  /**
   * The number (frame) of the capture packet being read, whose time the records take: what a
   * record's `frame` says. Absent when there is no capture file to count in (the proxy without --save).
   */
  frame?: () => number;
  /** Mappings endpoints advertised on the other connections: hints for ids whose handshake was missed. */
  advertised?: AdvertisedMappings;
  /** --ext-map: mappings the user gives for receivers whose extended handshake is not in the capture. */
  given?: GivenMappings;
}
