// Binary search over ascending data, in one place: the model's index lists (record indices, piece
// events, checkpoints) all ask "how many entries come before this one?".

/**
 * The first index in [0, length) at which `before(i)` is false, `length` if none; `before` must be
 * true for a prefix of the indices and false after it (as `list[i] < x` is on an ascending list).
 */
export function partitionPoint(length: number, before: (i: number) => boolean): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Entries of the ascending `list` that are at most `value`. */
export function countAtMost(list: ArrayLike<number>, value: number): number {
  return partitionPoint(list.length, (i) => list[i]! <= value);
}

/** Entries of the ascending `list` that are below `value` (where `value` is, or would go). */
export function countBelow(list: ArrayLike<number>, value: number): number {
  return partitionPoint(list.length, (i) => list[i]! < value);
}
