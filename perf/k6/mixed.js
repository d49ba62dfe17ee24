// mixed: 60% reads / 40% writes over the ExBuy surface. MAX_VU, DURATION, RAMP_UP, RAMP_DOWN, BASE_URL as in seed 000.
import { options as suiteOptions, iteration, auditTeardown } from "./lib/exbuy.js";

export const options = suiteOptions("mixed");
export default function () {
  iteration(0.6);
}
export function teardown() {
  auditTeardown();
}
