// When the reassemblers release a flow that went quiet, in capture time: a long capture (a busy
// client, a SYN scan, a swarm of thousands of peers) must cost what is live, not what was ever seen.
// The decision is the handler's (is the connection established?) and the policy's (how long is
// idle); the sweep that applies it is amortised so that it never costs more than O(1) per packet.

export interface IdlePolicy {
  /** Seconds an established connection (BitTorrent messages beyond the handshakes) may stay silent. */
  established: number;
  /** Seconds a half-open, handshake-only or not-yet-BitTorrent flow may stay silent. */
  brief: number;
}

/**
 * BitTorrent peers send a keep-alive every two minutes or so: ten minutes of silence is a dead peer.
 * Right after the handshakes a peer sends its bitfield or extended handshake, and a SYN is sent again
 * within a few seconds: 30 s of silence there is a scan, a refusal or a dead peer.
 */
export const DEFAULT_IDLE: IdlePolicy = { established: 600, brief: 30 };
/** Nothing is released (the library's default: a caller that feeds packets decides). */
export const NEVER_IDLE: IdlePolicy = { established: Infinity, brief: Infinity };

/** `--idle-timeout SECONDS`: established connections after SECONDS, the others after at most 30 s; 0 never. */
export function idlePolicy(seconds: number | undefined): IdlePolicy {
  if (seconds === undefined) return DEFAULT_IDLE;
  if (seconds <= 0) return NEVER_IDLE;
  return { established: seconds, brief: Math.min(seconds, DEFAULT_IDLE.brief) };
}

/**
 * A sweep is due every 1/SWEEPS_PER_LIMIT of the shorter limit in capture time, once at least
 * 1/SWEEPS_PER_LIMIT as many packets came as there are flows: a sweep's cost is spread over the
 * packets before it (a few flows looked at per packet), and flows exceed what was live within the
 * limit by at most a sixteenth (a quarter let 30 s of handshake-only connections grow to 37 s).
 */
const SWEEPS_PER_LIMIT = 16;

/**
 * Memory pressure: past this many flows tracked at once, flows that are not established are held to
 * PRESSURE_BRIEF seconds at most. Only a flood comes near it (a SYN scan, thousands of peers that
 * shake hands and say nothing): a live handshake-only connection costs about 2 KB across the
 * reassembler, decoder, analyzer and summary, and V8 needs about three times the live heap, so 30 s
 * of 1,000 such connections a second would hold 30,000 of them and some 200 MB. Established
 * connections keep their limit whatever the pressure.
 */
export const PRESSURE_FLOWS = 16_384;
export const PRESSURE_BRIEF = 10;

/** Says when a sweep over every flow is due (see SWEEPS_PER_LIMIT). */
export class SweepClock {
  private lastSweep = -Infinity;
  private packets = 0;
  private readonly interval: number;
  private readonly pressedInterval: number;
  /** Latest capture time seen: captures may step back a little (merged files, clock changes). */
  now = -Infinity;
  /** Flows tracked at the latest packet; past PRESSURE_FLOWS the brief limit shortens. */
  private flows = 0;

  constructor(private readonly policy: IdlePolicy) {
    this.interval = Math.min(policy.brief, policy.established) / SWEEPS_PER_LIMIT;
    this.pressedInterval = Math.min(policy.brief, PRESSURE_BRIEF, policy.established) / SWEEPS_PER_LIMIT;
  }

  /** Over PRESSURE_FLOWS flows tracked: the flows not established are held to PRESSURE_BRIEF at most. */
  get pressed(): boolean {
    return this.flows > PRESSURE_FLOWS;
  }

  get enabled(): boolean {
    return Number.isFinite(this.interval);
  }

  /** Called once per packet with its time and the number of flows tracked. */
  due(ts: number, flows: number): boolean {
    if (ts > this.now) this.now = ts;
    this.packets++;
    this.flows = flows;
    const interval = this.pressed ? this.pressedInterval : this.interval;
    if (this.now - this.lastSweep < interval || SWEEPS_PER_LIMIT * this.packets < flows) return false;
    this.lastSweep = this.now;
    this.packets = 0;
    return true;
  }

  /** The limit a flow is held to, by whether it is established (and the pressure). */
  limit(established: boolean): number {
    if (established) return this.policy.established;
    return this.pressed ? Math.min(this.policy.brief, PRESSURE_BRIEF) : this.policy.brief;
  }

  /** Why a flow silent for `idle` seconds goes (its limit, and the pressure when that shortened it). */
  why(idle: number, established: boolean): string {
    const limit = this.limit(established);
    const pressure = limit < this.policy.brief && !established ? ` while over ${PRESSURE_FLOWS} flows are tracked; ${this.policy.brief} s otherwise` : '';
    return `silent for ${Math.round(idle)} s (limit ${limit} s${pressure})`;
  }
}

/** What a reassembler held for a released flow, said in a few words ('' when nothing). */
export function heldText(segments: number, bytes: number, unit: string): string {
  if (segments === 0) return '';
  return `${segments} out-of-order ${unit}${segments === 1 ? '' : 's'} (${bytes} bytes)`;
}

/** What a sweep needs of a flow: when it last carried a packet and whether it is established. */
export interface IdleFlow {
  lastTs: number;
  live: boolean;
  handler?: { established?: boolean } | null | undefined;
}

/** Releases every flow silent for longer than its limit (both reassemblers sweep this way). */
export function sweepIdle<F extends IdleFlow>(flows: Iterable<F>, clock: SweepClock, release: (flow: F, now: number, why: string) => void): void {
  const now = clock.now;
  for (const flow of flows) {
    const established = flow.live && flow.handler?.established === true;
    const idle = now - flow.lastTs;
    if (idle > clock.limit(established)) release(flow, now, clock.why(idle, established));
  }
}

/**
 * Too many flows at once: the least recently active tenth goes (amortised, never per packet), with
 * why, naming what the reassembler tracks ("flows", "connections").
 */
export function evictLeastRecent<F extends IdleFlow>(flows: Iterable<F>, limit: number, what: string, release: (flow: F, why: string) => void): void {
  const all = [...flows].sort((a, b) => a.lastTs - b.lastTs);
  const n = Math.max(1, Math.floor(all.length / 10));
  const why = `it was among the least recently active of ${all.length} ${what} tracked at once (limit ${limit})`;
  for (let i = 0; i < n; i++) release(all[i]!, why);
}
