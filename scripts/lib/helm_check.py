"""Checks the Helm chart under helm/patron with Helm's own library (lint, values schema,
render) and validates every rendered manifest against the Kubernetes schemas (strict: an
unknown field is an error). Run by scripts/helm-check inside its virtualenv.

Usage: python helm_check.py CHART README KUBE_VERSION
Exit status 1 on any problem, each printed.
"""

import re
import sys
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import yaml

chart_dir, readme, kube_version = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
problems: list[str] = []


def problem(text: str) -> None:
    problems.append(text)
    print(f"    PROBLEM: {text}")


def load_values(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


chart = helm.Chart.load(str(chart_dir))
cases = {"default values": {}}
for extra in sorted((chart_dir / "ci").glob("*.yaml")):
    cases[f"ci/{extra.name}"] = load_values(extra)

# Settings of the README's table that the server reads (the others belong to the scripts or to
# single CLI commands).
NOT_SERVER = {
    "PATRON_CONFIG",
    "PATRON_OWNER_PASSWORD",
    "PATRON_OPERATOR_PASSWORD",
    "PATRON_PG_DIR",
    "PATRON_IMAGE",
}
settings = {
    m
    for m in re.findall(r"^\| `(PATRON_[A-Z0-9_]+)`", readme.read_text(), flags=re.M)
    if m not in NOT_SERVER and not m.startswith("PATRON_TEST_")
}
if not settings:
    problem(f"no settings found in {readme}")

for label, values in cases.items():
    print(f"==> chart: {label}")
    report = helm.lint(str(chart_dir), values, strict=True, kube_version=f"v{kube_version}")
    for m in report.get("messages") or []:
        if m.get("severity", 0) >= 2:
            problem(f"lint: {m.get('path')}: {m.get('error')}")
    for e in report.get("errors") or []:
        problem(f"lint: {e}")
    try:
        chart.validate_schema(chart.merge_values(values))
    except helm.HelmError as e:
        problem(f"values.schema.json refuses the values: {e}")
        continue
    for install in (True, False):
        rendered = chart.render(
            values, name="patron", namespace="loyalty", is_install=install, is_upgrade=not install
        )
        docs = []
        for path, text in sorted(rendered.items()):
            if path.endswith("NOTES.txt"):
                if not text.strip():
                    problem("NOTES.txt renders empty")
                continue
            for doc in yaml.safe_load_all(text):
                if doc:
                    docs.append((path, doc))
        kinds = {}
        for path, doc in docs:
            kinds.setdefault(doc["kind"], []).append(doc)
            try:
                kubernetes_validate.validate(doc, kube_version, strict=True)
            except kubernetes_validate.ValidationError as e:
                where = "/".join(str(p) for p in e.path)
                problem(f"{path}: {doc['kind']} {where}: {e.message}")
            except Exception as e:  # noqa: BLE001 - an unknown kind or version is a problem too
                problem(f"{path}: {doc.get('kind')}: {e}")
        if not install:
            continue
        print(f"    rendered and validated: {', '.join(sorted(f'{k} x{len(v)}' for k, v in kinds.items()))}")
        for kind in ("Deployment", "Service", "ConfigMap", "Job"):
            if kind not in kinds:
                problem(f"no {kind} rendered")
        if "Deployment" not in kinds or "ConfigMap" not in kinds:
            continue
        deploy = kinds["Deployment"][0]
        pod = deploy["spec"]["template"]["spec"]
        c = pod["containers"][0]
        sc = c.get("securityContext", {})
        if not (sc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem")) or sc.get("allowPrivilegeEscalation") is not False:
            problem(f"the server container's securityContext is not locked down: {sc}")
        if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
            problem("the liveness probe is not /healthz")
        if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
            problem("the readiness probe is not /readyz")
        merged = chart.merge_values(values)
        sandbox = merged["config"]["sandbox"]
        want = f"{merged['serverMemoryMi'] + sandbox['workers'] * sandbox['memoryMb']}Mi"
        limits = c.get("resources", {}).get("limits", {})
        if not (merged["resources"].get("limits") or {}).get("memory") and limits.get("memory") != want:
            problem(f"memory limit {limits.get('memory')} does not hold the sandbox workers ({want})")
        names = set(kinds["ConfigMap"][0]["data"]) | {e["name"] for e in c.get("env", [])}
        for missing in sorted(settings - names):
            problem(f"README setting {missing} is not set by the chart")
        for e in c.get("env", []):
            if "value" in e and any(w in e["name"] for w in ("KEY", "SECRET", "DATABASE_URL")):
                problem(f"{e['name']} is a plain value instead of a Secret reference")
        job = kinds["Job"][0]
        hooks = job["metadata"].get("annotations", {}).get("helm.sh/hook", "")
        if set(hooks.split(",")) != {"pre-install", "pre-upgrade"}:
            problem(f"the migrate Job is not a pre-install/pre-upgrade hook: {hooks!r}")
        if job["spec"]["template"]["spec"]["containers"][0]["args"] != ["migrate"]:
            problem("the migrate Job does not run `patron migrate`")
        if "CronJob" in kinds:
            problem("a CronJob was rendered: the job runner lives in the replicas")

# The schema must refuse what it should: otherwise the checks above prove little.
print("==> chart: values the schema must refuse")
for label, bad in {
    "an unknown key": {"replicas": 3},
    "a pool of one connection": {"config": {"dbMaxConnections": 1}},
    "a log format of its own": {"config": {"logFormat": "xml"}},
    "a Secret name with capitals": {"secrets": {"existingSecret": "Patron"}},
}.items():
    try:
        chart.validate_schema(chart.merge_values(bad))
        problem(f"values.schema.json accepts {label}")
    except helm.HelmError:
        print(f"    refused: {label}")

if problems:
    print(f"==> chart: {len(problems)} problem(s)")
    sys.exit(1)
print("==> chart: lint, schema and every manifest valid")
