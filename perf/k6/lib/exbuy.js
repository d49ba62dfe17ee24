// Shared pieces of the ExBuy-surface suites (contract section 1; seed 000's read-only / read-heavy /
// write-heavy / mixed). Every request names its route in the `name` tag and checks the contract's status code.
import http from "k6/http";
import { check, sleep } from "k6";
import { shapeOf, rampingStages } from "./defaults.js";

export const BASE_URL = __ENV.BASE_URL || "http://localhost:8080";
const THINK = parseFloat(__ENV.THINK_TIME || "0.15");
// LOCK_TYPE (set by `./exbuy perf --lock-type`) is added to every stock-taking request; unset, the server's default applies.
const LOCK = __ENV.LOCK_TYPE ? `lock_type=${__ENV.LOCK_TYPE}` : "";
const withLock = (url) => (LOCK ? `${url}${url.includes("?") ? "&" : "?"}${LOCK}` : url);

// The scenario's shape from lib/defaults.js (100 VUs, 30 s, ramps 10 s / 5 s), overridden by MAX_VU, DURATION,
// RAMP_UP, RAMP_DOWN. Seed 000's own shape was MAX_VU=200 DURATION=5m RAMP_UP=30s RAMP_DOWN=30s.
export function options(name) {
  return {
    scenarios: {
      [name]: { executor: "ramping-vus", startVUs: 0, stages: rampingStages(shapeOf(name)), gracefulRampDown: "10s" },
    },
    thresholds: { checks: ["rate==1.0"], http_req_duration: ["p(95)<50"] },
  };
}

// LOCK_TYPE=none needs X-Admin-Key outside the API's local profile: with ADMIN_KEY set, such runs send it.
const JSON_HEADERS = __ENV.LOCK_TYPE === "none" && __ENV.ADMIN_KEY
  ? { "Content-Type": "application/json", "X-Admin-Key": __ENV.ADMIN_KEY }
  : { "Content-Type": "application/json" };
const CATEGORIES = ["electronics", "clothing", "food", "books", "home"];
const ORDERINGS = ["price", "-price", "created_at", "-created_at", "name", "-name", "stock", "-stock"];
const WORDS = ["book", "phone", "shirt", "laptop", "food", "home", "electronics"];
const STATUSES = ["processing", "shipped", "delivered", "pending"];

const pick = (items) => items[Math.floor(Math.random() * items.length)];
const between = (min, max) => min + Math.floor(Math.random() * (max - min + 1));
// OPTIMIZE=true|false sends that value on every read that takes it (the read model / the naive queries alone);
// unset, each read picks one at random, as seed 000's suites do.
const OPTIMIZE = __ENV.OPTIMIZE || "";
if (OPTIMIZE && OPTIMIZE !== "true" && OPTIMIZE !== "false") throw new Error(`OPTIMIZE must be true or false, not ${OPTIMIZE}`);
const optimize = () => OPTIMIZE || (Math.random() < 0.5 ? "true" : "false");

function expect(res, status, name) {
  const ok = check(res, { [`${name} ${status}`]: (r) => r.status === status });
  if (!ok) console.error(`${name}: ${res.status} ${String(res.body).slice(0, 200)}`);
}

function get(url, name, status = 200) {
  expect(http.get(`${BASE_URL}${url}`, { tags: { name } }), status, name);
}

function send(method, url, body, name, status) {
  expect(http.request(method, `${BASE_URL}${url}`, JSON.stringify(body), { headers: JSON_HEADERS, tags: { name } }), status, name);
}

function orderBody() {
  const items = [];
  for (let i = between(1, 3); i > 0; i--) items.push({ product_id: between(1, 100), quantity: between(1, 3) });
  return { user_id: between(1, 10000), items };
}

export const reads = [
  () => get("/api/health", "01_health"),
  () => get(`/api/products?page=${between(1, 3)}&ordering=${pick(ORDERINGS)}&optimize=${optimize()}`, "02_products"),
  () => get(`/api/products?category=${pick(CATEGORIES)}&min_price=10&max_price=1500&optimize=${optimize()}`, "02_products_filtered"),
  () => get(`/api/products/${between(1, 100)}?optimize=${optimize()}`, "03_product_detail"),
  () => get(`/api/products/${between(1, 100)}/reviews?optimize=${optimize()}`, "04_product_reviews"),
  () => get(`/api/search/products?q=${pick(WORDS)}&in_stock=true`, "05_search"),
  () => get(`/api/orders/${between(1, 500)}?optimize=${optimize()}`, "07_order_detail"),
  () => get("/api/stats/top-products?limit=10", "11_top_products"),
  () => get(`/api/reviews?product_id=${between(1, 100)}&optimize=${optimize()}`, "13_reviews"),
];

export const writes = [
  () => send("POST", withLock("/api/orders"), orderBody(), "06_create_order", 201),
  () => send("PATCH", `/api/orders/${between(1, 500)}`, { status: pick(STATUSES) }, "08_order_status", 200),
  () => send("POST", withLock("/api/orders/bulk"), { orders: [orderBody(), orderBody(), orderBody()] }, "09_bulk_orders", 201),
  () => send("POST", LOCK ? withLock("/api/inventory/reserve") : `/api/inventory/reserve?lock_type=${pick(["optimistic", "pessimistic"])}`, { product_id: between(1, 100), quantity: 1 }, "10_reserve", 200),
  () => send("POST", "/api/reviews", { product: between(1, 100), user_id: between(1, 10000), rating: between(1, 5), body: "Load test review" }, "12_create_review", 201),
];

export function iteration(readShare) {
  (Math.random() < readShare ? pick(reads) : pick(writes))();
  sleep(THINK);
}

export function auditTeardown() {
  // The audit is admin-only outside the API's local profile: with ADMIN_KEY set, it is sent.
  const headers = __ENV.ADMIN_KEY ? { "X-Admin-Key": __ENV.ADMIN_KEY } : {};
  const res = http.get(`${BASE_URL}/api/audit`, { headers, tags: { name: "99_audit" } });
  const audit = res.json();
  check(audit, { "audit ok": (a) => a && a.ok === true });
  if (!audit || !audit.ok) console.error(`audit: ${String(res.body).slice(0, 500)}`);
}
