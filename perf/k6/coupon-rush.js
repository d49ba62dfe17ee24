// Coupon rush (seed 003): USERS users (default 150,000), one policy of QUANTITY coupons (default 50,000, so a
// 30-second run sells out and shows the sold-out path), MAX_VU claimers (default 500, lib/defaults.js) each claiming for a random
// user. 201 = admitted (issued asynchronously by the queue), 409 = sold out or this user already claimed.
// The teardown waits (at most SETTLE_SECONDS, default 120) for the queue to settle and every admitted claim to be a
// coupon — after a killed API, the recovery issues the claims the dead process had accepted some 15 s later — then
// checks it (consistency checks: they must hold after settling, in a fault run too).
import http from "k6/http";
import { check, sleep } from "k6";
import { Counter } from "k6/metrics";
import { BASE_URL, CONSISTENCY, rampScenario, expectStatus, init, randomUser, auditTeardown, settle, settleBound } from "./lib/shop.js";
// LOCK_TYPE (./exbuy perf --lock-type) is sent with each claim: lock_type=batched group-commits the claim rows.
const CLAIM_LOCK = __ENV.LOCK_TYPE ? `&lock_type=${__ENV.LOCK_TYPE}` : "";

const USERS = parseInt(__ENV.USERS || "150000", 10);
const QUANTITY = parseInt(__ENV.QUANTITY || "50000", 10);
const THINK = parseFloat(__ENV.THINK_TIME || "0.1");

const admitted = new Counter("coupon_admitted");
const refused = new Counter("coupon_refused");

export const options = {
  scenarios: rampScenario("coupon-rush"),
  setupTimeout: "180s",
  teardownTimeout: `${Math.max(180, settleBound(120) + 90)}s`,
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
  const res = http.post(`${BASE_URL}/coupons?userId=${user}&policyId=${data.policyId}${CLAIM_LOCK}`, null, { tags: { name: "1_claim_coupon" }, responseCallback: http.expectedStatuses(201, 409) });
  expectStatus(res, "1_claim_coupon", [201, 409]);
  if (res.status === 201) admitted.add(1);
  if (res.status === 409) refused.add(1);
  sleep(THINK);
}

export function teardown(data) {
  const stock = settle(
    () => http.get(`${BASE_URL}/api/coupon-policies/${data.policyId}/stock`, { tags: { name: "99_stock" } }).json(),
    (s) => s.settled === true && s.consistent === true && s.coupons === s.redis_requested,
    settleBound(120),
  );
  console.log(`coupon policy: ${JSON.stringify(stock)}`);
  check(stock, {
    "queue settled": (s) => !!s && s.settled === true,
    "coupons consistent (DB issued = coupon rows, Redis remaining + issued = quantity)": (s) => !!s && s.consistent === true,
    "never more than the quantity": (s) => !!s && s.issued <= QUANTITY,
    "every admitted claim became a coupon": (s) => !!s && s.coupons === s.redis_requested,
  }, CONSISTENCY);
  auditTeardown();
}
