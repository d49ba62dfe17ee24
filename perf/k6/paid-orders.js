// Paid orders (seed 003's order/payment test): MAX_VU buyers (default 100, lib/defaults.js), each its own user, ordering 1–3 of
// PRODUCTS products (default 100) at random with an Idempotency-Key, paying from a balance charged once.
// Different users run in parallel; a user's own orders are serialised. LOCK_TYPE picks the stock strategy.
import http from "k6/http";
import { sleep } from "k6";
import { Counter } from "k6/metrics";
import { shapeOf } from "./lib/defaults.js";
import { rampScenario, init, charge, order, auditTeardown } from "./lib/shop.js";

const PRODUCTS = parseInt(__ENV.PRODUCTS || "100", 10);
const THINK = parseFloat(__ENV.THINK_TIME || "0");
const paid = new Counter("orders_paid");

export const options = {
  scenarios: rampScenario("paid-orders"),
  setupTimeout: "120s",
  thresholds: { checks: ["rate==1.0"], "http_req_duration{name:2_create_order}": ["p(95)<100"] },
};

export function setup() {
  const vus = shapeOf("paid-orders").vus;
  const shop = init({ userCount: vus, productCount: PRODUCTS, stock: 10000000, price: 100, policyCount: 1, couponQuantity: 1 });
  if (shop.userIds.length !== 2) throw new Error(`expected one run of user ids, got ${JSON.stringify(shop.userIds)}`);
  return { productIds: shop.productIds, firstUser: shop.userIds[0] };
}

let charged = false;

export default function (data) {
  const user = data.firstUser + __VU - 1;
  if (!charged) {
    charge(user, 10000000, "1_charge_balance");
    charged = true;
  }
  const items = [];
  const seen = {};
  for (let n = 1 + Math.floor(Math.random() * 3); n > 0; n--) {
    const productId = data.productIds[Math.floor(Math.random() * data.productIds.length)];
    if (!seen[productId]) items.push({ productId, quantity: 1 });
    seen[productId] = true;
  }
  const res = order(user, null, items, "2_create_order", [201], { "Idempotency-Key": `${__VU}-${__ITER}` });
  if (res.status === 201) paid.add(1);
  if (THINK > 0) sleep(THINK);
}

export function teardown() {
  auditTeardown();
}
