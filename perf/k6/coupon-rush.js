// Coupon rush (seed 003): USERS users (default 150,000), one policy of QUANTITY coupons (default 50,000, so a
// 30-second run sells out and shows the sold-out path), MAX_VU claimers (default 500, lib/defaults.js) each claiming for a random
// user. 201 = admitted (issued asynchronously by the queue), 409 = sold out or this user already claimed.
// The teardown waits for the queue to settle and checks exactly min(admitted, QUANTITY) coupons exist.
import http from "k6/http";
import { check, sleep } from "k6";
import { Counter } from "k6/metrics";
import { BASE_URL, rampScenario, expectStatus, init, randomUser, auditTeardown } from "./lib/shop.js";

const USERS = parseInt(__ENV.USERS || "150000", 10);
const QUANTITY = parseInt(__ENV.QUANTITY || "50000", 10);
const THINK = parseFloat(__ENV.THINK_TIME || "0.1");

const admitted = new Counter("coupon_admitted");
const refused = new Counter("coupon_refused");

export const options = {
  scenarios: rampScenario("coupon-rush"),
  setupTimeout: "180s",
  teardownTimeout: "180s",
  thresholds: {
    checks: ["rate==1.0"],
    "http_req_duration{name:1_claim_coupon}": ["p(95)<50"],
    coupon_admitted: [`count<=${QUANTITY}`],
  },
};

export function setup() {
  const shop = init({ userCount: USERS, productCount: 1, policyCount: 1, couponQuantity: QUANTITY });
  return { policyId: shop.policyIds[0], userIds: shop.userIds };
}

export default function (data) {
  const user = randomUser(data.userIds);
  const res = http.post(`${BASE_URL}/coupons?userId=${user}&policyId=${data.policyId}`, null, { tags: { name: "1_claim_coupon" }, responseCallback: http.expectedStatuses(201, 409) });
  expectStatus(res, "1_claim_coupon", [201, 409]);
  if (res.status === 201) admitted.add(1);
  if (res.status === 409) refused.add(1);
  sleep(THINK);
}

export function teardown(data) {
  let stock;
  for (let waited = 0; waited <= 120; waited++) {
    stock = http.get(`${BASE_URL}/api/coupon-policies/${data.policyId}/stock`, { tags: { name: "99_stock" } }).json();
    if (stock.settled) break;
    sleep(1);
  }
  console.log(`coupon policy: ${JSON.stringify(stock)}`);
  check(stock, {
    "queue settled": (s) => s.settled === true,
    "coupons consistent (DB issued = coupon rows, Redis remaining + issued = quantity)": (s) => s.consistent === true,
    "never more than the quantity": (s) => s.issued <= QUANTITY,
    "every admitted claim became a coupon": (s) => s.coupons === s.redis_requested,
  });
  auditTeardown();
}
