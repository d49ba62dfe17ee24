// Validates ExBuy's Kubernetes manifests without a cluster: node validate.mjs FILE.yaml…
//  1. Each document against the Kubernetes API schema of its kind (kubernetes-models: the models generated from the
//     Kubernetes OpenAPI definitions, whose validate() checks types, required fields, enums and formats; like
//     kubeconform without -strict, it does not reject unknown fields), and a TestRun against schemas/k6-testrun.schema.json
//     (ours: see its description; it does reject unknown spec fields).
//  2. ExBuy's own rules across the documents: the Service selects the Deployment's pods and targets a port they
//     declare, the probes use the health routes, every ConfigMap/Secret a pod or TestRun names is in the set with the
//     keys it reads, and each TestRun aims at the Service.
// Prints one line per document and per broken rule; exits 0 when everything holds, 1 otherwise, 2 on bad usage.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseAllDocuments } from "yaml";
import Ajv from "ajv";

const require = createRequire(import.meta.url);
const models = {
  "v1/ConfigMap": "kubernetes-models/v1/ConfigMap",
  "v1/Secret": "kubernetes-models/v1/Secret",
  "v1/Service": "kubernetes-models/v1/Service",
  "apps/v1/Deployment": "kubernetes-models/apps/v1/Deployment",
  "policy/v1/PodDisruptionBudget": "kubernetes-models/policy/v1/PodDisruptionBudget",
};
const testRunSchema = JSON.parse(readFileSync(new URL("./schemas/k6-testrun.schema.json", import.meta.url), "utf8"));
const validateTestRun = new Ajv({ allErrors: true }).compile(testRunSchema);

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE.yaml…");
  process.exit(2);
}

const problems = [];
const docs = [];
for (const file of files) {
  for (const parsed of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (parsed.errors.length > 0) {
      problems.push(`${file}: YAML: ${parsed.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const doc = parsed.toJS();
    if (doc === null) continue;
    const id = `${file}: ${doc.kind ?? "?"}/${doc.metadata?.name ?? "?"}`;
    const type = `${doc.apiVersion}/${doc.kind}`;
    if (type === "k6.io/v1alpha1/TestRun") {
      if (!validateTestRun(doc)) {
        problems.push(...validateTestRun.errors.map((e) => `${id}: ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`));
      }
    } else if (models[type]) {
      const Model = Object.values(await import(models[type])).find((v) => typeof v === "function" && v.apiVersion === doc.apiVersion && v.kind === doc.kind)
        ?? require(models[type])[doc.kind];
      try {
        new Model(doc).validate();
      } catch (e) {
        problems.push(`${id}: ${e.message}`);
      }
    } else {
      problems.push(`${id}: no schema for ${type} (expected one of ${[...Object.keys(models), "k6.io/v1alpha1/TestRun"].join(", ")})`);
    }
    docs.push({ id, doc });
    console.log(`checked ${id}`);
  }
}

// ExBuy's rules across the documents.
const byKind = (kind) => docs.filter((d) => d.doc.kind === kind);
const named = (kind, name) => byKind(kind).find((d) => d.doc.metadata?.name === name)?.doc;
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const keysOf = (doc) => new Set([...Object.keys(doc?.data ?? {}), ...Object.keys(doc?.stringData ?? {})]);
const deployments = byKind("Deployment");
const services = byKind("Service");
if (deployments.length === 0) problems.push("no Deployment of the API");
if (services.length === 0) problems.push("no Service for the API");
for (const { id, doc } of deployments) {
  const pod = doc.spec?.template?.spec ?? {};
  for (const c of pod.containers ?? []) {
    const port = (name) => (typeof name === "string" ? c.ports?.find((p) => p.name === name)?.containerPort : name);
    const check = (probe, path) => {
      if (!c[probe]?.httpGet) problems.push(`${id}: container ${c.name} has no HTTP ${probe}`);
      else {
        if (c[probe].httpGet.path !== path) problems.push(`${id}: ${probe} of ${c.name} is ${c[probe].httpGet.path}, expected ${path}`);
        if (port(c[probe].httpGet.port) !== 8080) problems.push(`${id}: ${probe} of ${c.name} does not reach the API's port 8080`);
      }
    };
    check("readinessProbe", "/api/health/ready");
    check("livenessProbe", "/api/health");
    if (!c.ports?.some((p) => p.containerPort === 8080)) problems.push(`${id}: container ${c.name} does not declare port 8080 (ASPNETCORE_HTTP_PORTS of the image)`);
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef && !named("ConfigMap", from.configMapRef.name)) problems.push(`${id}: ConfigMap ${from.configMapRef.name} is not defined`);
      if (from.secretRef && !named("Secret", from.secretRef.name)) problems.push(`${id}: Secret ${from.secretRef.name} is not defined`);
    }
    const env = new Set([...(c.envFrom ?? []).flatMap((f) => [...keysOf(named(f.configMapRef ? "ConfigMap" : "Secret", (f.configMapRef ?? f.secretRef)?.name))]), ...(c.env ?? []).map((e) => e.name)]);
    for (const required of ["ConnectionStrings__Postgres", "ConnectionStrings__Redis", "ExBuy__AdminKey"]) {
      if (!env.has(required)) problems.push(`${id}: container ${c.name} gets no ${required}`);
    }
  }
  if (!matches(doc.spec?.selector?.matchLabels, doc.spec?.template?.metadata?.labels)) problems.push(`${id}: the selector does not match the pod template's labels`);
}
for (const { id, doc } of services) {
  const target = deployments.find((d) => matches(doc.spec?.selector, d.doc.spec?.template?.metadata?.labels));
  if (!target) { problems.push(`${id}: selects no Deployment's pods`); continue; }
  const containers = target.doc.spec.template.spec.containers ?? [];
  for (const p of doc.spec?.ports ?? []) {
    const ok = containers.some((c) => c.ports?.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort));
    if (!ok) problems.push(`${id}: targetPort ${p.targetPort} is no port of the selected pods`);
  }
}
for (const { id, doc } of byKind("TestRun")) {
  const cm = doc.spec?.script?.configMap;
  if (cm && named("ConfigMap", cm.name)) problems.push(`${id}: ConfigMap ${cm.name} is the scripts' archive, created from perf/k6 (see the file's comment), not a manifest`);
  const url = /BASE_URL=(\S+)/.exec(doc.spec?.arguments ?? "")?.[1];
  const host = url ? new URL(url).hostname : null;
  if (!host || !services.some((s) => s.doc.metadata.name === host)) problems.push(`${id}: BASE_URL ${url ?? "(none)"} is not the API's Service`);
  for (const e of doc.spec?.runner?.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref && !keysOf(named("Secret", ref.name)).has(ref.key)) problems.push(`${id}: ${e.name} reads ${ref.name}/${ref.key}, which is not defined`);
  }
}

for (const p of problems) console.log(`PROBLEM ${p}`);
console.log(problems.length === 0 ? `${docs.length} documents valid` : `${problems.length} problem(s)`);
process.exit(problems.length === 0 ? 0 : 1);
