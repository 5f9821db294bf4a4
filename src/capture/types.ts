// Contract between the capture reader and the pipeline.

export interface CapturedPacket {
  /** Seconds since the epoch (float; nanosecond captures keep what a double can). */
  ts: number;
  /** LINKTYPE_* value (pcap header, or the pcapng interface the packet came from). */
  linkType: number;
  /** The captured bytes: a view into the reader's buffer, valid only during the handler call. */
  data: Uint8Array;
  /** Length of the packet on the wire (may exceed data.length when the snaplen cut it). */
  origLen: number;
  /** Byte offset of the record in the (decompressed) capture stream. */
  offset: number;
  /** Byte offset of data[0] in the (decompressed) capture stream. */
  dataOffset: number;
  /** 1-based packet number, as Wireshark counts frames. */
  index: number;
}

export interface CaptureHandler {
  packet(p: CapturedPacket): void;
  /** Something is wrong but reading goes on (or ended early: truncated capture). */
  warning(message: string, offset: number): void;
  /** The input cannot be read as a capture at all (bad magic, unsupported version). Reading stops. */
  fatal(message: string, offset: number): void;
}

/** A timestamp as the capture stores it: whole seconds and nanoseconds (exact, unlike a double). */
export interface ExactTime {
  sec: number;
  nsec: number;
  /** The capture's unit is finer than a microsecond (write it with nanosecond resolution). */
  nano: boolean;
}

/** One capture packet read back by frame number (the details tree's lower layers): link type and captured bytes. */
export interface FramePacket {
  linkType: number;
  data: Uint8Array;
}
