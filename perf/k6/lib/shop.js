// Shared pieces of the shop-flow suites (contract section 2; seeds 001 and 003): seed 001's scenario shapes,
// per-step tags with the seed's SLA (p95 < 200 ms) plus ExBuy's stricter p99 < 200 ms, and the request helpers.
// Each request's `name` tag is its step; every step also feeds a Trend named after it.
import http from "k6/http";
import { check, sleep } from "k6";
import { Trend } from "k6/metrics";
import { shapeOf, rampingStages, arrivalScenario } from "./defaults.js";

export const BASE_URL = __ENV.BASE_URL || "http://localhost:8080";
// Admin routes (/init, /api/flash-sales, /api/audit) need X-Admin-Key outside the API's local profile (e.g. under Docker),
// and so does LOCK_TYPE=none on the stock-taking routes: with ADMIN_KEY set, such runs send it on every request.
export const ADMIN_HEADERS = __ENV.ADMIN_KEY ? { "Content-Type": "application/json", "X-Admin-Key": __ENV.ADMIN_KEY } : { "Content-Type": "application/json" };
const JSON_HEADERS = __ENV.LOCK_TYPE === "none" ? ADMIN_HEADERS : { "Content-Type": "application/json" };
// LOCK_TYPE (set by `./exbuy perf --lock-type`) picks the stock strategy of paid orders; unset, the server default.
const LOCK = __ENV.LOCK_TYPE ? `?lock_type=${__ENV.LOCK_TYPE}` : "";
// Claims take it too: lock_type=batched group-commits the claim rows; any other value records each claim alone.
const CLAIM_LOCK = __ENV.LOCK_TYPE ? `&lock_type=${__ENV.LOCK_TYPE}` : "";
// Answers a step expects are not HTTP errors (http_req_failed): a sold-out 409 in a rush is the system working.
const CLAIM_ANSWERS = http.expectedStatuses(201, 400, 409);
export const expected = (statuses) => http.expectedStatuses(...statuses);

// Seed 001's four shapes (lib/defaults.js), SCENARIO picks one (default flow_100vus). MAX_VU, DURATION, RAMP_UP and
// RAMP_DOWN override the shape's numbers, in every shape: flow_iterations walks the flow once per VU (MAX_VU VUs,
// at most DURATION); the flow_Nvus shapes ramp up to MAX_VU, hold for DURATION and ramp down.
export function personaScenarios() {
  const name = __ENV.SCENARIO || "flow_100vus";
  const s = shapeOf("persona", name);
  if (name === "flow_iterations") {
    return { [name]: { executor: "per-vu-iterations", vus: s.vus, iterations: s.iterations, maxDuration: s.duration } };
  }
  return { [name]: arrivalScenario(s) || { executor: "ramping-vus", startVUs: 0, stages: rampingStages(s), gracefulStop: s.rampDown } };
}

// A ramp to MAX_VU, DURATION at MAX_VU, a ramp down: the ExBuy suites' shape, for the rush suites (lib/defaults.js);
// ARRIVAL_RATE=N: the open model instead (arrivalScenario), as in personaScenarios' flow_Nvus shapes.
export function rampScenario(scenario) {
  const s = shapeOf(scenario);
  return { [scenario.replace(/-/g, "_")]: arrivalScenario(s) || { executor: "ramping-vus", startVUs: 0, stages: rampingStages(s), gracefulRampDown: "10s" } };
}

// The seed's SLA on each step, and ExBuy's own: the same bound at p99. Called in the init context, it also declares
// each step's Trend (k6 allows metrics to be made only there).
const trends = {};
export function stepThresholds(steps, seedP95 = 200, ownP99 = 200) {
  const thresholds = { checks: ["rate==1.0"] };
  for (const step of steps) {
    thresholds[`http_req_duration{name:${step}}`] = [`p(95)<${seedP95}`, `p(99)<${ownP99}`];
    trends[step] = new Trend(`${step.replace(/^\d+_/, "")}_time`, true);
  }
  return thresholds;
}

function timed(res, step) {
  if (trends[step]) trends[step].add(res.timings.duration);
  return res;
}

export function expectStatus(res, step, statuses) {
  const ok = check(res, { [`${step} ${statuses.join("/")}`]: (r) => statuses.includes(r.status) });
  if (!ok) console.error(`${step}: ${res.status} ${String(res.body).slice(0, 200)}`);
  return ok;
}

export function init(overrides) {
  const res = http.post(`${BASE_URL}/init`, overrides ? JSON.stringify(overrides) : null, { headers: ADMIN_HEADERS, tags: { name: "0_setup_init_data" }, timeout: "120s" });
  if (res.status !== 200) throw new Error(`POST /init answered ${res.status}: ${String(res.body).slice(0, 300)}`);
  return res.json();
}

export function userId(name) {
  const res = http.get(`${BASE_URL}/users/id?name=${name}`, { tags: { name: "0_get_userId" } });
  expectStatus(res, "0_get_userId", [200]);
  return res.json();
}

export function charge(user, amount, step = "1_charge_balance") {
  const res = timed(http.post(`${BASE_URL}/users/${user}/balance`, JSON.stringify({ amount }), { headers: JSON_HEADERS, tags: { name: step } }), step);
  expectStatus(res, step, [201]);
  return res.status === 201 ? res.json().balance : null;
}

export function claim(user, policy, step = "2_claim_coupon") {
  const res = timed(http.post(`${BASE_URL}/coupons?userId=${user}&policyId=${policy}${CLAIM_LOCK}`, null, { tags: { name: step }, responseCallback: CLAIM_ANSWERS }), step);
  expectStatus(res, step, [201, 400, 409]);
  return res;
}

// Issuance is asynchronous: after the seed's one-second pause, ask until the coupon shows (at most 5 s more).
export function couponsAfterClaim(user, step = "3_get_coupons") {
  sleep(1);
  for (let i = 0; i < 20; i++) {
    const res = timed(http.get(`${BASE_URL}/users/${user}/coupons`, { tags: { name: step } }), step);
    expectStatus(res, step, [200]);
    const coupons = res.status === 200 ? res.json() : [];
    if (coupons.length > 0) return coupons;
    sleep(0.25);
  }
  return [];
}

export function topProducts(step = "4_get_top_products") {
  const res = timed(http.get(`${BASE_URL}/products/top/realtime`, { tags: { name: step } }), step);
  expectStatus(res, step, [200]);
  return res.status === 200 ? res.json() : [];
}

export function order(user, couponId, items, step, statuses = [201], headers = {}) {
  const body = JSON.stringify({ userId: user, couponId: couponId === undefined ? null : couponId, items });
  const res = timed(http.post(`${BASE_URL}/orders${LOCK}`, body, { headers: Object.assign({}, JSON_HEADERS, headers), tags: { name: step }, responseCallback: expected(statuses) }), step);
  expectStatus(res, step, statuses);
  return res;
}

// Several orders sent at the same instant (k6 batches them on parallel connections).
export function ordersAtOnce(requests, step, statuses) {
  const responses = http.batch(requests.map(({ user, couponId, items }) => ({
    method: "POST",
    url: `${BASE_URL}/orders${LOCK}`,
    body: JSON.stringify({ userId: user, couponId, items }),
    params: { headers: JSON_HEADERS, tags: { name: step }, responseCallback: expected(statuses) },
  })));
  for (const res of responses) {
    timed(res, step);
    expectStatus(res, step, statuses);
  }
  return responses;
}

export function balance(user, step) {
  const res = timed(http.get(`${BASE_URL}/users/${user}/balance`, { tags: { name: step } }), step);
  expectStatus(res, step, [200]);
  return res.status === 200 ? res.json().balance : null;
}

// A random user from init's userIds ([first, last] pairs of consecutive ids).
export function randomUser(ranges) {
  let total = 0;
  for (let i = 0; i < ranges.length; i += 2) total += ranges[i + 1] - ranges[i] + 1;
  let n = Math.floor(Math.random() * total);
  for (let i = 0; i < ranges.length; i += 2) {
    const size = ranges[i + 1] - ranges[i] + 1;
    if (n < size) return ranges[i] + n;
    n -= size;
  }
  return ranges[0];
}

// Checks tagged CONSISTENCY (check(value, sets, CONSISTENCY)) must hold once the system settled, in a fault run too:
// the runner judges a fault run on them (perf/runner/summarize.py), not on the in-flight checks of each answer, which
// may fail while a server is down.
export const CONSISTENCY = { exbuy_check: "consistency" };
// How long a teardown waits for the asynchronous work (the coupon queue, a recovery after a fault, the stock mirror's
// repair) to settle before its consistency checks: SETTLE_SECONDS (the runner passes --settle in a fault run), else
// the suite's own default.
export const SETTLE_SECONDS = __ENV.SETTLE_SECONDS ? parseInt(__ENV.SETTLE_SECONDS, 10) : null;
export const settleBound = (fallback) => (SETTLE_SECONDS === null ? fallback : SETTLE_SECONDS);

// read() once a second until done(value) or the bound is up; the last value. A read that fails (the API still coming
// back, an answer that is not JSON) is null.
export function settle(read, done, seconds) {
  let value = null;
  for (let waited = 0; ; waited++) {
    try {
      value = read();
    } catch (e) {
      value = null;
    }
    if ((value !== null && value !== undefined && done(value)) || waited >= seconds) return value;
    sleep(1);
  }
}

// The consistency audit, after the asynchronous work (coupon issuance, projections) has settled: asked until it
// passes or `waitSeconds` are up. A run whose audit fails is failed, whatever its latency.
export function auditTeardown(waitSeconds = 30) {
  let res;
  let audit;
  for (let waited = 0; ; waited++) {
    res = http.get(`${BASE_URL}/api/audit`, { headers: ADMIN_HEADERS, tags: { name: "99_audit" }, timeout: "120s" });
    audit = res.status === 200 ? res.json() : null;
    if ((audit && audit.ok) || waited >= waitSeconds) break;
    sleep(1);
  }
  check(audit, { "audit ok": (a) => a && a.ok === true });
  if (!audit || !audit.ok) console.error(`audit: ${String(res.body).slice(0, 800)}`);
  return audit;
}
