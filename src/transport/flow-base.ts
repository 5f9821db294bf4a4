// What the TCP and uTP reassemblers share: a flow's handler and its life (live, ignored, settled,
// finished), the flow as the FlowInfo its handler is made from (no copy per flow), and the
// reassembler's bounds, idle sweep, eviction, release and memory of closed flows. Each reassembler
// keeps its own sequence arithmetic and held packets; this is the one owner of the rest.
import type { Dir, Transport } from '../model/record.js';
import { handlerSettled, REASSEMBLY_LIMITS, type FlowFactory, type FlowInfo, type FlowStartWatch, type StreamHandler } from './types.js';
import { evictLeastRecent, heldText, NEVER_IDLE, SweepClock, sweepIdle, type IdlePolicy } from './idle.js';

/** Closed flows remembered so that late retransmissions do not open phantom flows. */
const MAX_CLOSED = 4096;

/** What both reassemblers track per direction, beside their own sequence state. */
export interface DirectionBase {
  heldBytes: number;
  ended: boolean;
}

/** One flow: its two directions as fields (a tuple cost 64 bytes a flow), its handler and its life. */
export abstract class FlowBase<D extends DirectionBase> implements FlowInfo {
  finished = false;
  /** Made by the factory (see each reassembler for when); null when the factory ignored the flow. */
  handler: StreamHandler | null | undefined = undefined;
  lastTs: number;

  constructor(
    readonly d0: D,
    readonly d1: D,
    /** Endpoint that opened the connection (SYN sender), or the first sender seen (FlowInfo). */
    readonly initiator: string,
    readonly responder: string,
    /** Time of the flow's first packet, and whether its start was captured (FlowInfo). */
    readonly startTs: number,
    readonly startSeen: boolean,
    /** Capture packet number of the first packet (FlowInfo.startFrame), or 0. */
    readonly startFrame: number,
  ) {
    this.lastTs = startTs;
  }

  abstract get transport(): Transport;

  dir(dir: Dir): D {
    return dir === 0 ? this.d0 : this.d1;
  }

  /** A handler wants the bytes. */
  get live(): boolean {
    const h = this.handler;
    return h != null && h.ignored !== true;
  }

  /** The factory or the handler gave the flow up: only its end is tracked. */
  get ignored(): boolean {
    const h = this.handler;
    return h === null || h?.ignored === true;
  }

  /** No open event dated at this flow's start can come any more (FlowStartWatch). */
  get settled(): boolean {
    return this.finished || handlerSettled(this.handler);
  }
}

export interface ReassemblyOptions {
  /** Out-of-order bytes held per direction before the hole is declared a gap (default 4 MiB). */
  maxHeldBytes?: number;
  /** Live flows tracked before the least recently active ones are released (default 100000). */
  maxFlows?: number;
  /** When silent flows are released (capture time); default never. */
  idle?: IdlePolicy;
  /** Told of each flow as it starts (see FlowStartWatch). */
  starts?: FlowStartWatch;
}

export abstract class ReassemblerBase<D extends DirectionBase, F extends FlowBase<D>> {
  protected readonly maxHeldBytes: number;
  protected readonly maxHeldUnits: number;
  protected readonly maxFlows: number;
  protected readonly clock: SweepClock;
  protected readonly starts: FlowStartWatch | undefined;
  /** Closed flows' keys and their connection's handler (a late packet still belongs to it). */
  protected readonly closed = new Map<string, StreamHandler | null>();
  /** Flows released after a silence (or as the least recently active when too many were tracked). */
  released = 0;

  constructor(
    protected readonly factory: FlowFactory,
    options: ReassemblyOptions,
    /** Out-of-order segments or packets held per direction (default 2048). */
    maxHeldUnits: number | undefined,
    /** What the flows are called in an eviction's reason ("flows", "connections"). */
    private readonly what: string,
    /** What a held unit is called in a release's "what was dropped" ("segment", "packet"). */
    private readonly unit: string,
  ) {
    this.maxHeldBytes = options.maxHeldBytes ?? REASSEMBLY_LIMITS.maxHeldBytes;
    this.maxHeldUnits = maxHeldUnits ?? REASSEMBLY_LIMITS.maxHeldUnits;
    this.maxFlows = options.maxFlows ?? REASSEMBLY_LIMITS.maxFlows;
    this.clock = new SweepClock(options.idle ?? NEVER_IDLE);
    this.starts = options.starts;
  }

  /** Number of live flows (for tests and memory checks). */
  abstract get flowCount(): number;
  protected abstract allFlows(): Iterable<F>;
  /** Skips every hole of a direction, up to its FIN if one was seen. */
  protected abstract flush(flow: F, dir: Dir, ts: number): void;
  /** Ends a direction whose stream is complete up to its FIN. */
  protected abstract checkEnd(flow: F, dir: Dir, ts: number): void;
  /** Out-of-order units a direction holds. */
  protected abstract heldUnits(d: D): number;
  /** Forgets the flow's keys (a release: nothing is remembered as closed). */
  protected abstract forget(flow: F): void;

  /** Called once per packet before it is placed: releases the flows silent past their limit. */
  protected sweepIfDue(ts: number): void {
    if (this.clock.enabled && this.clock.due(ts, this.flowCount)) sweepIdle(this.allFlows(), this.clock, (flow, now, why) => this.release(flow, now, why));
  }

  /** Too many flows: release the least recently active tenth (amortised, never per packet). */
  protected evictIdle(ts: number): void {
    evictLeastRecent(this.allFlows(), this.maxFlows, this.what, (flow, why) => this.release(flow, ts, why));
  }

  /** The flow's handler, made from the flow itself (it is the FlowInfo). */
  protected makeHandler(flow: F): void {
    flow.handler = this.factory(flow);
  }

  /** A new flow is tracked: told to the start watch. */
  protected started(flow: F, frame: number, ts: number): void {
    this.starts?.opened(frame, ts, flow);
  }

  /** Flush both directions and finish the handler, exactly once; false when the flow was already over. */
  protected finishFlow(flow: F, ts: number): boolean {
    if (flow.finished) return false;
    flow.finished = true;
    if (flow.handler != null) {
      for (const dir of [0, 1] as const) {
        this.flush(flow, dir, ts);
        this.checkEnd(flow, dir, ts);
      }
      flow.handler.finish(ts);
    }
    return true;
  }

  protected rememberClosed(key: string, handler: StreamHandler | null): void {
    this.closed.set(key, handler);
    if (this.closed.size > MAX_CLOSED) {
      const [oldest] = this.closed.keys();
      if (oldest !== undefined) this.closed.delete(oldest);
    }
  }

  /**
   * Forgets a flow without delivering what it holds and without remembering it as closed: a later
   * packet of the connection opens a new flow, decoded as one first seen mid-stream.
   */
  protected release(flow: F, ts: number, why: string): void {
    if (flow.finished) return;
    flow.finished = true;
    this.released++;
    if (flow.live) {
      const h = flow.handler!;
      const held = [flow.d0, flow.d1].map((d) => heldText(this.heldUnits(d), d.heldBytes, this.unit)).filter((t) => t !== '');
      if (h.release !== undefined) h.release(ts, why, held.join(', '));
      else h.finish(ts);
    }
    this.forget(flow);
  }
}
