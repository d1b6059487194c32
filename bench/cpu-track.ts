// CPU time and event-loop use of the process it runs in, sampled every 100 ms, so that the benchmark
// can ask for a window it learns only afterwards (the first to the last Slack write of a delivery).
// Run in the bot children and the sandbox child; a reader can then tell a CPU-bound run (a process
// near a whole core) from a latency-bound one.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface CpuWindow {
  /** CPU time (user + system) of the process in the window, ms. */
  cpuMs: number;
  /** Event-loop utilisation in the window (1 = the loop never idled). */
  elu: number;
  /** How late a timer fired (the event loop's delay) since the last reset: p50, p99, max, ms. */
  loopDelayMs: { p50: number; p99: number; max: number };
}

const SAMPLE_MS = 100;
/** At most this many samples (an hour): older ones are dropped. */
const KEEP = 36_000;

interface Sample {
  at: number;
  cpu: number;
  elu: ReturnType<typeof performance.eventLoopUtilization>;
}

const samples: Sample[] = [];
const RESOLUTION_MS = 20;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
let timer: NodeJS.Timeout | undefined;

const take = (): Sample => {
  const c = process.cpuUsage();
  return { at: Date.now(), cpu: (c.user + c.system) / 1000, elu: performance.eventLoopUtilization() };
};

export function startCpuTrack(): void {
  if (timer) return;
  delay.enable();
  samples.push(take());
  timer = setInterval(() => {
    samples.push(take());
    if (samples.length > KEEP) samples.splice(0, samples.length - KEEP);
  }, SAMPLE_MS);
  timer.unref();
}

/** Resets the event-loop delay histogram (call before a measured part). */
export function resetLoopDelay(): void {
  delay.reset();
}

/** The last sample at or before `t` (the first one if none is). */
function at(t: number): Sample {
  let best = samples[0] ?? take();
  for (const s of samples) {
    if (s.at > t) break;
    best = s;
  }
  return best;
}

/** CPU and event-loop use between two epoch-ms instants (a sample's resolution, 100 ms). */
export function cpuBetween(from: number, to: number): CpuWindow {
  const a = at(from);
  const b = to >= Date.now() ? take() : at(to);
  const elu = performance.eventLoopUtilization(b.elu, a.elu).utilization;
  // The histogram holds the whole interval between two samples: the delay is what exceeds it.
  const ms = (ns: number) => Number(Math.max(0, ns / 1e6 - RESOLUTION_MS).toFixed(1));
  return {
    cpuMs: b.cpu - a.cpu,
    elu: Number.isFinite(elu) ? elu : 0,
    loopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
  };
}
