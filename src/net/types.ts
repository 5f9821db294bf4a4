// Contract between link/IP/TCP/UDP decoding and the transports.

export interface NetPacket {
  ipVersion: 4 | 6;
  /** Address text: dotted IPv4, or IPv6 in RFC 5952 form (no brackets). */
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** Endpoint text "ip:port", IPv6 as "[addr]:port". */
  src: string;
  dst: string;
  proto: 'tcp' | 'udp';
  /** TCP only. */
  seq: number;
  ack: number;
  flags: number;
  /** Transport payload (TCP/UDP data), a view valid only during the call. */
  payload: Uint8Array;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** A packet that is not TCP/UDP over IP (ARP, ICMP...) is `null`; a broken one is a string saying why. */
export type NetResult = NetPacket | null | string;
