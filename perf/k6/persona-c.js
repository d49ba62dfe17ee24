// Persona C (malicious buyer) from seed 001: charge too little (1,000, once) → claim a coupon → order with a
// coupon that was never issued, use an issued coupon twice at the same instant, and send malformed orders.
// Every attempt must be refused (400/404/409): no order may be created, the balance stays 1,000.
//   SCENARIO=flow_iterations|flow_10vus|flow_100vus|flow_300vus k6 run perf/k6/persona-c.js
import { check } from "k6";
import { personaScenarios, stepThresholds, init, userId, charge, claim, couponsAfterClaim, order, ordersAtOnce, balance, auditTeardown } from "./lib/shop.js";

const STEPS = ["1_charge_balance", "2_claim_coupon", "3_get_coupons", "5_order_fake_coupon", "5_order_double_use", "5_order_malformed", "6_get_balance"];
export const options = { scenarios: personaScenarios(), thresholds: stepThresholds(STEPS) };
const REFUSED = [400, 404, 409];
const CHARGE = 1000;

export function setup() {
  const shop = init();
  return { policyIds: shop.policyIds, productIds: shop.productIds };
}

let charged = false;

export default function (data) {
  const user = userId(`u${__VU}`);
  const [p1, p2] = data.productIds;
  if (!charged) {
    charge(user, CHARGE);
    charged = true;
  }
  const claimed = claim(user, data.policyIds[__VU % data.policyIds.length]).status === 201;
  const coupons = claimed ? couponsAfterClaim(user) : [];

  // A coupon id nobody was issued.
  order(user, 900000000 + __VU * 1000 + (__ITER % 1000), [{ productId: p1, quantity: 1 }], "5_order_fake_coupon", REFUSED);
  if (coupons.length > 0) {
    // The same coupon in two orders at the same instant; together they cost more than the balance.
    const twice = { user, couponId: coupons[0].couponId, items: [{ productId: p1, quantity: 1 }, { productId: p2, quantity: 1 }] };
    ordersAtOnce([twice, twice], "5_order_double_use", REFUSED);
  }
  const malformed = [
    [{ productId: p1, quantity: 0 }],
    [{ productId: p1, quantity: -3 }],
    [{ productId: 999999999, quantity: 1 }],
    [],
    [{ productId: p1, quantity: 1000 }],
  ];
  order(user, null, malformed[__ITER % malformed.length], "5_order_malformed", REFUSED);

  const left = balance(user, "6_get_balance");
  check(left, { "balance untouched": (b) => b === CHARGE });
}

export function teardown() {
  auditTeardown();
}
