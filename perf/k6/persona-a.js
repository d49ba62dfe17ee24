// Persona A (impulse buyer) from seed 001, kept as the original scenario: charge 10,000 → claim a coupon →
// (wait 1 s) read coupons → top 5 → order the top 5 one each → (the original never checks the balance).
// Two things differ from the original: BASE_URL (it pointed at host.docker.internal), and the shapes, which are the
// seed's four from lib/shop.js, so that MAX_VU/DURATION/RAMP_UP/RAMP_DOWN apply here as in every script (the original
// hard-coded 300 VUs in flow_iterations) and an unset SCENARIO means flow_100vus (the original ran 1 VU once).
//   SCENARIO=flow_iterations|flow_10vus|flow_100vus|flow_300vus [MAX_VU=N] k6 run perf/k6/persona-a.js
import http from "k6/http";
import { check, sleep } from "k6";
import { Trend } from "k6/metrics";
import { personaScenarios } from "./lib/shop.js";

export const options = {
  scenarios: personaScenarios(),
  thresholds: {
    checks: ["rate==1.0"],
    "http_req_duration{name:1_charge_balance}": ["p(95)<200"],
    "http_req_duration{name:2_claim_coupon}": ["p(95)<200"],
    "http_req_duration{name:3_get_coupons}": ["p(95)<200"],
    "http_req_duration{name:4_get_top_products}": ["p(95)<200"],
    "http_req_duration{name:5_create_order}": ["p(95)<200"],
  },
};

const BASE_URL = __ENV.BASE_URL || "http://localhost:8080";

const chargeTime = new Trend("charge_balance_time");
const couponTime = new Trend("coupon_issue_time");
const couponCheckTime = new Trend("coupon_check_time");
const top5Time = new Trend("get_top5_time");
const orderTime = new Trend("order_time");

export const setup = () => {
  const res = http.post(`${BASE_URL}/init`, null, { headers: { "Content-Type": "application/json" }, tags: { name: "0_setup_init_data" } });
  check(res, { "init 200": (r) => r.status === 200 });
  const body = res.json();
  console.log("System initialized:", JSON.stringify(body));
  return { policyIds: body.policyIds };
};

const getUserIdByName = (vuName) => {
  const res = http.get(`${BASE_URL}/users/id?name=${vuName}`, { tags: { name: "0_get_userId" } });
  check(res, {
    "getUserId 200": (r) => {
      if (r.status !== 200) console.error(`Unexpected user status: ${r.status}, body=${r.body}`);
      return r.status === 200;
    },
  });
  return res.json();
};

const chargeBalance = (userId) => {
  const res = http.post(`${BASE_URL}/users/${userId}/balance`, JSON.stringify({ amount: 10000 }), {
    headers: { "Content-Type": "application/json" },
    tags: { name: "1_charge_balance" },
  });
  chargeTime.add(res.timings.duration);
  check(res, { "charge 201": (r) => r.status === 201 });
  return res.json();
};

const claimCoupon = (userId, policyId) => {
  const res = http.post(`${BASE_URL}/coupons?userId=${userId}&policyId=${policyId}`, null, { tags: { name: "2_claim_coupon" } });
  couponTime.add(res.timings.duration);
  check(res, {
    "coupon response valid": (r) => {
      if (![201, 400, 409].includes(r.status)) console.error(`Unexpected coupon status: ${r.status}, body=${r.body}`);
      return [201, 400, 409].includes(r.status);
    },
  });
  return res.status === 201;
};

const getUserCoupons = (userId) => {
  sleep(1);
  const res = http.get(`${BASE_URL}/users/${userId}/coupons`, { tags: { name: "3_get_coupons" } });
  couponCheckTime.add(res.timings.duration);
  check(res, { "get coupons 200": (r) => r.status === 200 });
  return res.json() || [];
};

const getTopProducts = () => {
  const res = http.get(`${BASE_URL}/products/top/realtime`, { tags: { name: "4_get_top_products" } });
  top5Time.add(res.timings.duration);
  check(res, { "top5 200": (r) => r.status === 200 });
  return res.json() || [];
};

const createOrder = (userId, products, coupon) => {
  const payload = JSON.stringify({ userId, couponId: coupon ? coupon.couponId : null, items: products.map((p) => ({ productId: p.productId, quantity: 1 })) });
  const res = http.post(`${BASE_URL}/orders`, payload, { headers: { "Content-Type": "application/json" }, tags: { name: "5_create_order" } });
  orderTime.add(res.timings.duration);
  check(res, {
    "order 201": (r) => {
      if (r.status !== 201) console.error(`Unexpected order status: ${r.status}, body=${r.body}`);
      return r.status === 201;
    },
  });
  return res.json();
};

export default function (data) {
  const { policyIds } = data;
  const userId = getUserIdByName(`u${__VU}`);
  chargeBalance(userId);
  const policyId = policyIds[__VU % policyIds.length];
  const issued = claimCoupon(userId, policyId);
  const coupons = issued ? getUserCoupons(userId) : [];
  const top5 = getTopProducts().slice(0, 5);
  // The original writes `coupons?.[0]`; optional chaining needs k6 >= 0.52, this form runs on any k6.
  if (top5.length > 0) createOrder(userId, top5, coupons && coupons[0]);
}

export function teardown() {
  // The audit is admin-only outside the API's local profile: with ADMIN_KEY set, it is sent.
  const headers = __ENV.ADMIN_KEY ? { "X-Admin-Key": __ENV.ADMIN_KEY } : {};
  const res = http.get(`${BASE_URL}/api/audit`, { headers, tags: { name: "9_audit" } });
  const audit = res.json();
  check(audit, { "audit ok": (a) => a && a.ok === true });
  if (!audit.ok) console.error(`Audit violations: ${JSON.stringify(audit.violations.slice(0, 10))}`);
}
