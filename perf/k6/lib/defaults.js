// The one set of defaults for every scenario, read by the scripts (a run by hand: `k6 run perf/k6/X.js`) and by the
// runner (`./exbuy perf X`, perf/runner/perf.py parses the JSON object below), so that both run the same thing.
// vus / duration / rampUp / rampDown: the ramping-vus shape (ramp up to vus, hold for duration, ramp down).
// shapes: the named shapes of the seed-derived scenarios (SCENARIO / --shape); their numbers are defaults too:
// --vus, --duration, --ramp-up and --ramp-down override them; a shape may also set the script's stock and think time
// (STOCK / THINK_TIME override those). Keep the object strict JSON (the runner parses it).
export const DEFAULTS = {
  "read-only": { "vus": 100, "duration": "30s", "rampUp": "10s", "rampDown": "5s" },
  "read-heavy": { "vus": 100, "duration": "30s", "rampUp": "10s", "rampDown": "5s" },
  "write-heavy": { "vus": 100, "duration": "30s", "rampUp": "10s", "rampDown": "5s" },
  "mixed": { "vus": 100, "duration": "30s", "rampUp": "10s", "rampDown": "5s" },
  "coupon-rush": { "vus": 500, "duration": "30s", "rampUp": "10s", "rampDown": "5s" },
  "paid-orders": { "vus": 100, "duration": "30s", "rampUp": "10s", "rampDown": "5s" },
  "volume-soak": { "vus": 20, "duration": "10m", "rampUp": "10s", "rampDown": "0s" },
  "flash-sale": {
    "shape": "v1_stress",
    "shapes": {
      "v1_basic": { "vus": 100, "duration": "50s", "rampUp": "10s", "rampDown": "0s" },
      "v1_stress": { "vus": 300, "duration": "110s", "rampUp": "10s", "rampDown": "0s" },
      "v1_faults": { "vus": 150, "duration": "50s", "rampUp": "10s", "rampDown": "0s", "stock": 3000, "thinkTime": 1 }
    }
  },
  "persona": {
    "shape": "flow_100vus",
    "shapes": {
      "flow_iterations": { "vus": 300, "duration": "1m", "iterations": 1 },
      "flow_10vus": { "vus": 10, "duration": "1m", "rampUp": "30s", "rampDown": "10s" },
      "flow_100vus": { "vus": 100, "duration": "1m", "rampUp": "30s", "rampDown": "10s" },
      "flow_300vus": { "vus": 300, "duration": "2m", "rampUp": "30s", "rampDown": "20s" }
    }
  }
};

// The shape a script runs: the named shape's (or the scenario's) defaults, overridden by MAX_VU, DURATION, RAMP_UP,
// RAMP_DOWN. `key` is the scenario ("read-heavy") or "persona" / "flash-sale"; `shape` the chosen shape's name.
export function shapeOf(key, shape) {
  const entry = DEFAULTS[key];
  const base = entry.shapes ? entry.shapes[shape || entry.shape] : entry;
  if (!base) throw new Error(`SCENARIO must be one of ${Object.keys(entry.shapes).join(", ")}`);
  return {
    vus: parseInt(__ENV.MAX_VU || String(base.vus), 10),
    duration: __ENV.DURATION || base.duration,
    rampUp: __ENV.RAMP_UP || base.rampUp,
    rampDown: __ENV.RAMP_DOWN || base.rampDown,
    iterations: base.iterations,
    stock: base.stock,
    thinkTime: base.thinkTime,
  };
}

// ramp up to vus, hold for duration, ramp down (a "0s" ramp-down ends at full load, as seed 004's shapes do).
export function rampingStages(s) {
  const stages = [{ duration: s.rampUp, target: s.vus }, { duration: s.duration, target: s.vus }];
  if (s.rampDown && !/^0+(ms|s|m|h)?$/.test(s.rampDown)) stages.push({ duration: s.rampDown, target: 0 });
  return stages;
}

// ARRIVAL_RATE (iterations per second; set by `./exbuy perf capacity`, perf/guide/capacity.md): an open model instead
// of the ramp. k6's constant-arrival-rate executor starts ARRIVAL_RATE iterations every second for DURATION, whatever
// the answers take, on at most MAX_VU VUs (all pre-allocated); an iteration that finds no free VU is dropped (k6's
// dropped_iterations). Unset: null, and the script runs its closed-model shape.
export function arrivalScenario(s) {
  if (!__ENV.ARRIVAL_RATE) return null;
  const rate = parseInt(__ENV.ARRIVAL_RATE, 10);
  if (!(rate > 0) || String(rate) !== __ENV.ARRIVAL_RATE) throw new Error(`ARRIVAL_RATE must be a positive whole number of iterations per second, not ${__ENV.ARRIVAL_RATE}`);
  return { executor: "constant-arrival-rate", rate, timeUnit: "1s", duration: s.duration, preAllocatedVUs: s.vus, maxVUs: s.vus, gracefulStop: "10s" };
}
