// read-only: 100% reads / 0% writes over the ExBuy surface. MAX_VU, DURATION, RAMP_UP, RAMP_DOWN, BASE_URL as in seed 000.
import { options as suiteOptions, iteration, auditTeardown } from "./lib/exbuy.js";

export const options = suiteOptions("read-only");
export default function () {
  iteration(1.0);
}
export function teardown() {
  auditTeardown();
}
