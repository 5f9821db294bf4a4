// The runtime packages below ship no type declarations; these cover what ltdh-inspect uses.
declare module 'bencode' {
  interface Decode {
    (data: Uint8Array, start?: number, end?: number, encoding?: string): unknown;
    /** Offset just after the last value decoded (may exceed the input when a string was truncated). */
    position: number;
  }
  const bencode: {
    decode: Decode;
    encode(value: unknown): Uint8Array;
    byteLength(value: unknown): number;
  };
  export default bencode;
}

declare module 'bittorrent-peerid' {
  export default function peerid(id: Uint8Array | string): { client: string; version: string | null };
}
