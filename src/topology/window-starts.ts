// The window math of the built-in time window kinds (tumbling, hopping, sliding): windows of one
// size on a grid of starts `offset + k * step`. The operator only calls a kind's windowStarts.

/**
 * The starts of the windows `[start, start + size)` that contain `timestamp`, ascending: the
 * starts `offset + k * step` (whole k), with `0 <= offset < step <= size`. As in Kafka Streams,
 * no window starts before the epoch. Allocates the one array it returns.
 */
export function windowStarts(
  timestamp: number,
  sizeMs: number,
  stepMs: number,
  offsetMs: number,
): number[] {
  const shifted = timestamp - offsetMs;
  // 1. The last start <= timestamp, and the first start > timestamp - size.
  const last = shifted - (((shifted % stepMs) + stepMs) % stepMs) + offsetMs;
  let first = (Math.floor((shifted - sizeMs) / stepMs) + 1) * stepMs + offsetMs;
  // 2. No window before the epoch: the first start >= 0 is the offset itself (k = 0).
  if (first < 0) first = offsetMs;
  const starts: number[] = [];
  for (let start = first; start <= last; start += stepMs) starts.push(start);
  return starts;
}
