// read-heavy: 80% reads / 20% writes over the ExBuy surface. MAX_VU, DURATION, RAMP_UP, RAMP_DOWN, BASE_URL as in seed 000.
import { options as suiteOptions, iteration, auditTeardown } from "./lib/exbuy.js";

export const options = suiteOptions("read-heavy");
export default function () {
  iteration(0.8);
}
export function teardown() {
  auditTeardown();
}
