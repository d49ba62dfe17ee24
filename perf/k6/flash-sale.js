// Flash sale (seed 004): many buyers, STOCK units (default 100). Buyers keep trying, as the seed's locust users did,
// until the end; exactly STOCK purchases may succeed, the rest are 409 sold out. Shapes:
//   SCENARIO=v1_basic   100 buyers arriving 10/s, 60 s    SCENARIO=v1_stress 300 buyers arriving 30/s, 2 min (default)
//   SCENARIO=v1_faults  150 buyers arriving 15/s, 1 min, 3,000 units, each buyer tries once a second: the sale lasts
//                       about half the run, so that a fault (./exbuy perf flash-sale --shape v1_faults --fault
//                       KIND@15s) lands while units are still being sold (v1_basic/v1_stress sell out in seconds)
// MAX_VU / DURATION / RAMP_UP / RAMP_DOWN override the shape's numbers (lib/defaults.js); LOCK_TYPE picks the
// strategy (seed 004's redlock is LOCK_TYPE=redlock). The teardown reads the DB and Redis stock side by side (as
// gauges, so the runner reports units sold against stock) and runs the audit. It waits (at most SETTLE_SECONDS,
// default 30) for the stock to be consistent — Redis is repaired from PostgreSQL after a Redis fault — unless
// something was oversold, which no wait repairs. "stock consistent" and "nothing oversold" are consistency checks
// (they must hold after settling, in a fault run too); "sold out exactly" is the sale's result.
import http from "k6/http";
import { check, sleep } from "k6";
import { Counter, Gauge, Trend } from "k6/metrics";
import { BASE_URL, ADMIN_HEADERS, CONSISTENCY, expectStatus, auditTeardown, settle, settleBound } from "./lib/shop.js";
import { DEFAULTS, shapeOf, rampingStages, arrivalScenario } from "./lib/defaults.js";

const SHAPE_NAME = __ENV.SCENARIO || DEFAULTS["flash-sale"].shape;
const SHAPE = shapeOf("flash-sale", SHAPE_NAME);
const STOCK = parseInt(__ENV.STOCK || String(SHAPE.stock || 100), 10);
const THINK = parseFloat(__ENV.THINK_TIME || String(SHAPE.thinkTime === undefined ? 0.1 : SHAPE.thinkTime));
const LOCK = __ENV.LOCK_TYPE ? `?lock_type=${__ENV.LOCK_TYPE}` : "";
// lock_type=none needs X-Admin-Key outside the API's local profile: with ADMIN_KEY set, the purchases send it.
const LOCK_TYPE_HEADERS = __ENV.LOCK_TYPE === "none" ? ADMIN_HEADERS : { "Content-Type": "application/json" };

const sold = new Counter("flash_sale_sold");
const soldOut = new Counter("flash_sale_sold_out");
const purchaseTime = new Trend("purchase_time", true);
// The result that matters, read back in the teardown: units sold against the stock, database and Redis side by side.
const stockInitial = new Gauge("flash_sale_stock_initial");
const stockDb = new Gauge("flash_sale_stock_db");
const stockRedis = new Gauge("flash_sale_stock_redis");
const stockSold = new Gauge("flash_sale_stock_sold");
const stockOversold = new Gauge("flash_sale_stock_oversold");
const stockConsistent = new Gauge("flash_sale_stock_consistent");

export const options = {
  scenarios: {
    // ARRIVAL_RATE=N (`./exbuy perf capacity flash-sale`): N purchase attempts a second instead of the ramp.
    [SHAPE_NAME]: arrivalScenario(SHAPE) || {
      executor: "ramping-vus",
      startVUs: 0,
      stages: rampingStages(SHAPE),
      gracefulRampDown: "5s",
    },
  },
  teardownTimeout: `${Math.max(60, settleBound(30) + 60)}s`,
  thresholds: {
    checks: ["rate==1.0"],
    "http_req_duration{name:1_purchase}": ["p(99)<100"],
    flash_sale_sold: [`count==${STOCK}`],
  },
};

export function setup() {
  const res = http.post(`${BASE_URL}/api/flash-sales`, JSON.stringify({ stock: STOCK, price: "10.00" }), { headers: ADMIN_HEADERS, tags: { name: "0_setup_flash_sale" } });
  if (res.status !== 201) throw new Error(`POST /api/flash-sales answered ${res.status}: ${String(res.body).slice(0, 300)}`);
  return { productId: res.json().product_id };
}

export default function (data) {
  const res = http.post(`${BASE_URL}/api/flash-sales/${data.productId}/purchase${LOCK}`, JSON.stringify({ user_id: __VU, quantity: 1 }), { headers: LOCK_TYPE_HEADERS, tags: { name: "1_purchase" }, responseCallback: http.expectedStatuses(201, 409) });
  purchaseTime.add(res.timings.duration);
  expectStatus(res, "1_purchase", [201, 409]);
  if (res.status === 201) sold.add(1);
  if (res.status === 409) soldOut.add(1);
  sleep(THINK);
}

export function teardown(data) {
  const stock = settle(
    () => http.get(`${BASE_URL}/api/flash-sales/${data.productId}/stock`, { tags: { name: "99_stock" } }).json(),
    (s) => s.consistent === true || s.oversold > 0,
    settleBound(30),
  );
  console.log(`flash sale stock: ${JSON.stringify(stock)}`);
  if (stock) {
    stockInitial.add(stock.initial_stock);
    stockDb.add(stock.db_stock);
    if (stock.redis_stock !== null && stock.redis_stock !== undefined) stockRedis.add(stock.redis_stock);
    stockSold.add(stock.sold);
    stockOversold.add(stock.oversold);
    stockConsistent.add(stock.consistent ? 1 : 0);
  }
  check(stock, {
    "stock consistent (DB = initial - sold, Redis = DB)": (s) => !!s && s.consistent === true,
    "nothing oversold": (s) => !!s && s.oversold === 0 && s.db_stock >= 0,
  }, CONSISTENCY);
  check(stock, { "sold out exactly": (s) => !!s && s.sold === STOCK && s.db_stock === 0 });
  auditTeardown(0);
  if (__ENV.LOCK_TYPE === "none") {
    // lock_type=none oversells by design; this run has recorded it (failed checks, audit). The product is deleted
    // so that the damage does not fail the audits of the runs that come after it.
    const headers = __ENV.ADMIN_KEY ? { "X-Admin-Key": __ENV.ADMIN_KEY } : {};
    const res = http.del(`${BASE_URL}/api/products/${data.productId}`, null, { headers, tags: { name: "99_cleanup" } });
    console.log(`lock_type=none: deleted the oversold flash-sale product ${data.productId} (${res.status})`);
  }
}
