// The relay's rules without sockets (sans-I/O, in the style of mitmproxy's layers): fed what each
// socket reported (data, end, error, drain, close), it calls an action sink (write, pause, resume,
// end, destroy). relay.ts is the edge: it maps socket callbacks to these events and performs the
// actions. Side 0 is the client, side 1 the target; bytes read from side d travel in direction d.
import type { Dir } from '../model/record.js';

export type Side = 0 | 1;

/**
 * What the core asks the edge to do. A sink of callbacks rather than returned action objects: the
 * data path runs per chunk, and this allocates nothing for it.
 */
export interface RelayActions {
  /** Writes to `side`; returns false when that side's send buffer is full (socket.write's answer). */
  write(side: Side, bytes: Uint8Array): boolean;
  /** Stops reading from `side`. */
  pause(side: Side): void;
  resume(side: Side): void;
  /** Sends a FIN to `side` (half-close: the other direction keeps flowing). */
  end(side: Side): void;
  /** Closes `side` now; with `reset`, by an RST, mirroring the reset the other side sent. */
  destroy(side: Side, reset: boolean): void;
}

/** Error codes that mean the peer reset the connection: mirrored to the other side as an RST. */
export function isReset(code: string | undefined): boolean {
  return code === 'ECONNRESET' || code === 'EPIPE';
}

export class RelayCore {
  /** Reasons each side's reader is paused (full writer on the other side, full --save file). */
  private readonly blocked: [number, number] = [0, 0];
  /** Writes into each side that returned false and wait for its drain (or close). */
  private readonly awaitingDrain: [number, number] = [0, 0];
  /** Sides destroyed, as far as the core knows (it asked for it, or the socket errored or closed). */
  private readonly gone: [boolean, boolean] = [false, false];
  private connected = false;

  constructor(private readonly act: RelayActions) {}

  /** The target accepted the connection: start reading from the client (accepted paused). */
  connect(): void {
    this.connected = true;
    this.act.resume(0);
  }

  /**
   * Bytes read from side `dir`: written to the other side first (the caller decodes only after this
   * returns, so decoding never delays or alters them); a full writer pauses this reader until it drains.
   */
  data(dir: Dir, bytes: Uint8Array): void {
    const to = other(dir);
    if (this.act.write(to, bytes)) return;
    this.awaitingDrain[to]++;
    this.hold(dir);
  }

  /** Pauses the reader of `side` for a reason outside the relay (the --save file is full). */
  hold(side: Side): void {
    this.blocked[side]++;
    this.act.pause(side);
  }

  /** One reason to pause `side` is gone; reading resumes when none is left. */
  release(side: Side): void {
    if (--this.blocked[side] === 0 && !this.gone[side]) this.act.resume(side);
  }

  /** `side` took all it was written: every reader paused on it may go on. */
  drain(side: Side): void {
    this.releaseWriter(side);
  }

  /** `side` sent a FIN: passed on as a FIN to the other side, whose direction keeps flowing. */
  end(side: Side): void {
    const to = other(side);
    if (!this.gone[to]) this.act.end(to);
  }

  /**
   * `side` failed. Before the target answered, the client is closed (the target refused). After,
   * the other side is closed too: by an RST when this one was reset, so the reset is mirrored.
   */
  error(side: Side, code: string | undefined): void {
    this.gone[side] = true;
    if (side === 1 && !this.connected) return this.close1(0, false);
    this.close1(other(side), isReset(code));
  }

  /** `side`'s socket closed: nothing waits on it any more. */
  close(side: Side): void {
    this.gone[side] = true;
    this.releaseWriter(side);
  }

  /** Shutdown, or the MSE bridge failed: both sides closed now. */
  abort(): void {
    this.close1(0, false);
    this.close1(1, false);
  }

  private close1(side: Side, reset: boolean): void {
    if (this.gone[side]) return;
    this.gone[side] = true;
    this.act.destroy(side, reset);
  }

  private releaseWriter(side: Side): void {
    let n = this.awaitingDrain[side];
    this.awaitingDrain[side] = 0;
    const reader = other(side);
    while (n-- > 0) this.release(reader);
  }
}

function other(side: Side): Side {
  return side === 0 ? 1 : 0;
}
