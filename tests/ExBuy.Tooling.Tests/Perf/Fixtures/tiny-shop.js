// Not one of ExBuy's suites: a tiny k6 script of "another project" (its own options, thresholds, custom metric and
// handleSummary), run by PerfScriptTests through `./exbuy perf script` against a small HTTP server the test starts.
import http from "k6/http";
import { check } from "k6";
import { Counter } from "k6/metrics";

const itemsSeen = new Counter("tiny_items_seen");
const BASE = __ENV.BASE_URL || "http://127.0.0.1:9";

export const options = {
  scenarios: { browse: { executor: "shared-iterations", vus: 2, iterations: 12, maxDuration: "30s" } },
  thresholds: {
    checks: ["rate==1.0"],
    "http_req_duration{name:add_to_cart}": ["p(95)<5000"],
  },
};

export function setup() {
  return { healthy: http.get(`${BASE}/health`).status === 200 };
}

export default function (data) {
  const item = 1 + (__ITER % 6);
  const res = http.get(`${BASE}/items/${item}`);
  if (res.status === 200) itemsSeen.add(1);
  const cart = http.post(`${BASE}/cart${__ENV.REFUSE_CART ? "?refuse=1" : ""}`, JSON.stringify({ item }),
    { headers: { "Content-Type": "application/json" }, tags: { name: "add_to_cart" } });
  check(cart, { "cart 201": (r) => r.status === 201, "set-up saw health": () => data.healthy });
}

export function handleSummary(data) {
  return {
    [__ENV.SUMMARY_OUT]: JSON.stringify({ requests: data.metrics.http_reqs.values.count, seen: data.metrics.tiny_items_seen.values.count }),
    stdout: "tiny-shop's own summary\n",
  };
}
