// write-heavy: 30% reads / 70% writes over the ExBuy surface. MAX_VU, DURATION, RAMP_UP, RAMP_DOWN, BASE_URL as in seed 000.
import { options as suiteOptions, iteration, auditTeardown } from "./lib/exbuy.js";

export const options = suiteOptions("write-heavy");
export default function () {
  iteration(0.3);
}
export function teardown() {
  auditTeardown();
}
