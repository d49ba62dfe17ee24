// volume-soak (issue 23): uploads and distinct searches for a long while, to show that what a request leaves behind
// is bounded — the upload folder by its quota (ExBuy:Uploads), the catalogue's search cache by its byte limit. Every
// iteration uploads one FILE_KB file (256) and runs SEARCHES (5) searches that no one ran before. An upload is answered
// 201 until the quota is full, then 507 (or 413): both are the contract of a bounded store, anything else fails.
// The runner records the API's RSS; disk is sampled beside it (perf/README.md, "Volume under a soak").
import http from "k6/http";
import { check, sleep } from "k6";
import { shapeOf, rampingStages } from "./lib/defaults.js";
import { BASE_URL } from "./lib/exbuy.js";

const FILE_KB = parseInt(__ENV.FILE_KB || "256", 10);
const SEARCHES = parseInt(__ENV.SEARCHES || "5", 10);
const THINK = parseFloat(__ENV.THINK_TIME || "0.1");
const DATA = "x".repeat(FILE_KB * 1024);

export const options = {
  scenarios: {
    "volume-soak": { executor: "ramping-vus", startVUs: 0, stages: rampingStages(shapeOf("volume-soak")), gracefulRampDown: "10s" },
  },
  thresholds: { checks: ["rate==1.0"] },
};

export default function () {
  const upload = http.post(`${BASE_URL}/api/uploads`, { file: http.file(DATA, `soak-${__VU}-${__ITER}.bin`, "application/octet-stream") },
    { tags: { name: "14_upload" } });
  const stored = check(upload, { "upload 201, or refused as full (507/413)": (r) => r.status === 201 || r.status === 507 || r.status === 413 });
  if (!stored) console.error(`14_upload: ${upload.status} ${String(upload.body).slice(0, 200)}`);
  for (let i = 0; i < SEARCHES; i++) {
    const q = `soak${__VU}v${__ITER}i${i}r${Math.floor(Math.random() * 1e9)}`;
    const res = http.get(`${BASE_URL}/api/search/products?q=${q}`, { tags: { name: "05_search" } });
    if (!check(res, { "search 200": (r) => r.status === 200 })) console.error(`05_search: ${res.status} ${String(res.body).slice(0, 200)}`);
  }
  sleep(THINK);
}
