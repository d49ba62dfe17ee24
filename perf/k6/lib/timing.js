// Where a step's time went on the server: the API's Server-Timing header (perf/guide/timing.md), recorded per step
// by the runner's entry script (perf/runner/accepted.py wraps k6/http, so every suite is recorded unmodified)
// into one Trend, `server_timing`, tagged name (the step), phase (lock-user, pool, pg, redis, batch, app, total, ...)
// and rt, the request's own duration as a half-octave bucket (floor(2·log2(ms))), which lets the runner split the
// step's tail (the requests at or above its p95) by phase without a tag per request. An answer without the header
// (a peer, ExBuy with ExBuy:Observability:ServerTiming off) records nothing.
// A uniform sample of the answers is recorded: SERVER_TIMING_SAMPLE (default 0.2; 1: every answer; 0: none). Each
// recorded answer adds about seven points to k6's stream, and k6 runs on the same cores as the API: with every answer
// recorded (and the answer log), k6's CPU per persona-A request went 0.40 -> 0.66 ms (r261 -> r272 of
// perf/results/reference.jsonl); a sample of a fifth keeps the per-step percentiles and the tail split for less.
import { Trend } from "k6/metrics";

const serverTiming = new Trend("server_timing", true);
const SAMPLE = __ENV.SERVER_TIMING_SAMPLE !== undefined && __ENV.SERVER_TIMING_SAMPLE !== "" ? parseFloat(__ENV.SERVER_TIMING_SAMPLE) : 0.2;

export function rtBucket(ms) {
  return ms > 0 ? Math.floor(2 * Math.log2(ms)) : -99;
}

// "pg;dur=2.3;n=3, app;dur=0.9" -> [["pg", 2.3], ["app", 0.9]]
export function parseServerTiming(header) {
  const phases = [];
  for (const metric of String(header || "").split(",")) {
    const parts = metric.trim().split(";");
    if (!parts[0]) continue;
    const dur = parts.slice(1).map((p) => p.trim().split("=")).find((kv) => kv[0] === "dur");
    if (dur) phases.push([parts[0], parseFloat(dur[1])]);
  }
  return phases;
}

export function recordTiming(res, step) {
  if (!(SAMPLE >= 1) && !(Math.random() < SAMPLE)) return;
  const header = res && res.headers ? res.headers["Server-Timing"] : undefined;
  if (!header) return;
  const rt = String(rtBucket(res.timings.duration));
  for (const [phase, ms] of parseServerTiming(header)) {
    if (!Number.isNaN(ms)) serverTiming.add(ms, { name: step, phase, rt });
  }
}
