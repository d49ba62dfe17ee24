// Persona B (rational buyer) from seed 001: charge exactly the price of product 1 → claim a coupon → with a
// coupon, buy product 2 as well (the discount pays for it), without one buy product 1 alone → the balance must
// end at 0. Each iteration starts from 0 again, so a VU can repeat the flow (later claims of the same policy
// are 409: one coupon per user and policy).
//   SCENARIO=flow_iterations|flow_10vus|flow_100vus|flow_300vus k6 run perf/k6/persona-b.js
import { check } from "k6";
import { personaScenarios, stepThresholds, init, userId, charge, claim, couponsAfterClaim, order, balance, auditTeardown } from "./lib/shop.js";

const STEPS = ["1_charge_balance", "2_claim_coupon", "3_get_coupons", "5_create_order", "6_get_balance"];
export const options = { scenarios: personaScenarios(), thresholds: stepThresholds(STEPS) };

export function setup() {
  const shop = init(); // 300 users, p1..p5 at 2,000, five policies of 100 coupons at 2,000 off
  return { policyIds: shop.policyIds, productIds: shop.productIds };
}

export default function (data) {
  const user = userId(`u${__VU}`);
  const [p1, p2] = data.productIds;
  charge(user, 2000);
  const claimed = claim(user, data.policyIds[__VU % data.policyIds.length]).status === 201;
  const coupons = claimed ? couponsAfterClaim(user) : [];
  const coupon = coupons.length > 0 ? coupons[0] : null;
  const items = coupon ? [{ productId: p1, quantity: 1 }, { productId: p2, quantity: 1 }] : [{ productId: p1, quantity: 1 }];
  order(user, coupon ? coupon.couponId : null, items, "5_create_order");
  const left = balance(user, "6_get_balance");
  check(left, { "balance ends at 0": (b) => b === 0 });
}

export function teardown() {
  auditTeardown();
}
