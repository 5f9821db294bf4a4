// pcap-parser (test-only cross-check) ships no types; this covers what the tests use.
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';
  import type { Readable } from 'node:stream';
  export interface PcapParserPacket {
    header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
    data: Buffer;
  }
  const pcapParser: { parse(input: string | Readable): EventEmitter };
  export default pcapParser;
}
