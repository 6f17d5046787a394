// Validates deploy/kubernetes/*.yaml offline against the Kubernetes API schema
// (kubernetes-models: the OpenAPI schema of each kind, as the API server would check it),
// then what the fleet needs of the Job: Indexed, completions = parallelism = ANYSCAN_SHARDS
// of its ConfigMap, the completion index as --shard, a volume directory per shard,
// hostNetwork, and capabilities: drop ALL, add exactly the worker units'
// CapabilityBoundingSet. Exit 1 naming the first failure.
// Usage: node tests/k8s/validate.mjs REPO_ROOT
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ConfigMap } from "kubernetes-models/v1";
import { Job } from "kubernetes-models/batch/v1";

const root = process.argv[2];
const kinds = { ConfigMap, Job };
let failures = 0;
const fail = (what) => { console.log(`FAIL ${what}`); failures++; };
const ok = (what) => console.log(`ok ${what}`);

// CapabilityBoundingSet of the worker units, without CAP_: what the pod must add.
function unitCapabilities() {
  const sets = ["anyscan-worker.service", "anyscan-worker@.service"].map((unit) => {
    const line = readFileSync(join(root, "units", unit), "utf8")
      .split("\n").find((l) => l.startsWith("CapabilityBoundingSet="));
    return line.slice(line.indexOf("=") + 1).trim().split(/\s+/).map((c) => c.replace(/^CAP_/, "")).sort();
  });
  if (JSON.stringify(sets[0]) !== JSON.stringify(sets[1])) fail("the two worker units grant different capabilities");
  return sets[0];
}

function checkFleet(docs, file) {
  const job = docs.find((d) => d.kind === "Job");
  const config = docs.find((d) => d.kind === "ConfigMap");
  if (!job || !config) return fail(`${file}: needs a Job and its ConfigMap`);
  const spec = job.spec;
  const conf = config.data["scan.conf"] ?? "";
  const key = (k) => (conf.match(new RegExp(`^${k}=(.*)$`, "m")) ?? [])[1];
  const shards = Number(key("ANYSCAN_SHARDS"));
  const expect = (cond, what) => (cond ? ok(`${file}: ${what}`) : fail(`${file}: ${what}`));
  expect(spec.completionMode === "Indexed", "completionMode Indexed");
  expect(spec.completions === shards && spec.parallelism === shards,
    `completions = parallelism = ANYSCAN_SHARDS (${spec.completions}, ${spec.parallelism}, ${shards})`);
  expect(/^[0-9]+$/.test(key("ANYSCAN_SEED") ?? ""), "the seed is fixed in the ConfigMap");
  expect(spec.backoffLimitPerIndex > 0 && spec.template.spec.restartPolicy === "Never",
    "a failed index is retried as itself (backoffLimitPerIndex, restartPolicy Never)");
  const pod = spec.template.spec;
  const c = pod.containers[0];
  expect(pod.hostNetwork === true, "hostNetwork");
  const shardEnv = (c.env ?? []).find((e) => e.name === "ANYSCAN_SHARD");
  expect(shardEnv?.valueFrom?.fieldRef?.fieldPath ===
    "metadata.annotations['batch.kubernetes.io/job-completion-index']", "ANYSCAN_SHARD is the completion index");
  const args = c.args.join(" ");
  expect(args.includes("--shard $(ANYSCAN_SHARD)") && args.includes("--config /etc/anyscan/fleet/scan.conf"),
    "args pass the config and --shard $(ANYSCAN_SHARD)");
  const results = c.volumeMounts.find((m) => m.mountPath === key("ANYSCAN_RUN_DIRECTORY"));
  expect(results?.subPathExpr?.includes("$(ANYSCAN_SHARD)"), "the run directory is one volume directory per shard");
  const caps = c.securityContext.capabilities;
  expect(JSON.stringify(caps.drop) === JSON.stringify(["ALL"]), "capabilities drop ALL");
  const want = unitCapabilities();
  expect(JSON.stringify([...caps.add].sort()) === JSON.stringify(want),
    `capabilities add exactly the units' (${[...caps.add].sort()} vs ${want})`);
  expect(c.securityContext.allowPrivilegeEscalation === false && c.securityContext.privileged === false,
    "no privilege escalation, not privileged");
}

for (const file of readdirSync(join(root, "deploy/kubernetes")).filter((f) => f.endsWith(".yaml"))) {
  const docs = [];
  for (const doc of parseAllDocuments(readFileSync(join(root, "deploy/kubernetes", file), "utf8"))) {
    if (doc.errors.length) { fail(`${file}: YAML: ${doc.errors[0].message}`); continue; }
    const object = doc.toJS();
    const Kind = kinds[object.kind];
    if (!Kind) { fail(`${file}: no schema here for kind ${object.kind}`); continue; }
    try {
      new Kind(object).validate();
      ok(`${file}: ${object.kind} ${object.metadata.name} matches the Kubernetes API schema`);
    } catch (error) {
      fail(`${file}: ${object.kind} ${object.metadata?.name}: ${error.message}`);
    }
    docs.push(object);
  }
  checkFleet(docs, file);
}
process.exit(failures ? 1 : 0);
