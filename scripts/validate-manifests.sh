#!/usr/bin/env bash
# Validates what `gym k8s render` wrote under DIR, offline, for Kubernetes
# 1.33 (override: K8S_VERSION=1.x.0). Each folder with a kustomization.yaml
# (the base and every overlay) is built, and each object of the result is
# checked against that version's OpenAPI schemas, strictly (an unknown field
# fails), with kubernetes-validate (pinned in scripts/requirements-validate.txt,
# installed into the project's .venv). Overlays are checked as merged, since a
# patch alone is a partial object: built with `kubectl kustomize` when kubectl
# is here (or KUBECTL=path), else (or with KUBECTL=) with a small merge
# (resources, namespace, replicas, strategic-merge patches by file) that
# refuses anything else it meets.
# Checks the schemas leave out: names (DNS-1123), labels, selectors that
# select a Deployment's pods, Service target ports and probe ports that the
# pods have, ConfigMaps that exist. Exits 1 on any error.
#
#   scripts/validate-manifests.sh out/k8s
set -euo pipefail
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: scripts/validate-manifests.sh DIR   (a folder written by gym k8s render)" >&2
  exit 2
fi
dir=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
version=${K8S_VERSION:-1.33.0}
python=$(bash "$root/scripts/python-env.sh")
venv=$(dirname "$(dirname "$python")")
if ! cmp -s "$root/scripts/requirements-validate.txt" "$venv/.requirements-validate" 2>/dev/null; then
  "$python" -m pip install --quiet --disable-pip-version-check -r "$root/scripts/requirements-validate.txt" >&2
  cp "$root/scripts/requirements-validate.txt" "$venv/.requirements-validate"
fi

exec "$python" - "$dir" "$version" <<'PY'
import os
import re
import shutil
import subprocess
import sys

import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError, validate
from kubernetes_validate.version import __version__ as kv_version

root, version = sys.argv[1], sys.argv[2]
errors = []
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
KUSTOMIZE_KEYS = {"apiVersion", "kind", "namespace", "resources", "replicas", "patches"}


def rel(path):
    return os.path.relpath(path, root)


def fail(where, message):
    errors.append(f"ERROR {where}: {message}")


def load_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def kustomization(folder):
    return load_docs(os.path.join(folder, "kustomization.yaml"))[0]


def files_of(folder):
    """The files a kustomization reads (its own, its resources', its patches'), recursively."""
    k = kustomization(folder)
    used = {os.path.join(folder, "kustomization.yaml")}
    for entry in k.get("resources", []):
        path = os.path.normpath(os.path.join(folder, entry))
        used |= files_of(path) if os.path.isdir(path) else {path}
    for patch in k.get("patches", []):
        if "path" in patch:
            used.add(os.path.normpath(os.path.join(folder, patch["path"])))
    return used


def merge(base, patch):
    """A strategic merge of the kinds of patch a render writes: maps merge, lists of named items merge by name, null deletes."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = merge(base.get(key), value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(patch, list) and all(isinstance(i, dict) and "name" in i for i in base + patch):
        out = list(base)
        for item in patch:
            at = next((i for i, b in enumerate(out) if b["name"] == item["name"]), None)
            if at is None:
                out.append(item)
            else:
                out[at] = merge(out[at], item)
        return out
    return patch


def build_here(folder):
    """kubectl kustomize's result for the kinds of kustomization a render writes."""
    k = kustomization(folder)
    unknown = set(k) - KUSTOMIZE_KEYS
    if unknown:
        raise SystemExit(f"ERROR {rel(folder)}: kubectl is not here, and this script's own merge does not do {', '.join(sorted(unknown))}")
    objects = []
    for entry in k.get("resources", []):
        path = os.path.normpath(os.path.join(folder, entry))
        objects += build_here(path) if os.path.isdir(path) else load_docs(path)
    for patch in k.get("patches", []):
        if set(patch) != {"path"}:
            raise SystemExit(f"ERROR {rel(folder)}: kubectl is not here, and this script's own merge only does patches by path")
        for p in load_docs(os.path.join(folder, patch["path"])):
            at = [i for i, o in enumerate(objects) if o["kind"] == p["kind"] and o["metadata"]["name"] == p["metadata"]["name"]]
            if not at:
                fail(rel(folder), f"patch {patch['path']}: no {p['kind']} {p['metadata']['name']} to patch")
            for i in at:
                objects[i] = merge(objects[i], p)
    for r in k.get("replicas", []):
        at = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "ReplicaSet") and o["metadata"]["name"] == r["name"]]
        if not at:
            fail(rel(folder), f"replicas: no Deployment {r['name']}")
        for o in at:
            o["spec"]["replicas"] = r["count"]
    if "namespace" in k:
        for o in objects:
            o["metadata"]["namespace"] = k["namespace"]
    return objects


def build(folder):
    kubectl = os.environ["KUBECTL"] if "KUBECTL" in os.environ else shutil.which("kubectl")
    if not kubectl:
        return build_here(folder), "merged here"
    out = subprocess.run([kubectl, "kustomize", folder], capture_output=True, text=True)
    if out.returncode != 0:
        fail(rel(folder), f"kubectl kustomize: {out.stderr.strip()}")
        return [], "kubectl kustomize"
    return [d for d in yaml.safe_load_all(out.stdout) if d], "kubectl kustomize"


def check_labels(where, labels):
    for key, value in (labels or {}).items():
        prefix, _, name = key.rpartition("/")
        if (prefix and not DNS_SUBDOMAIN.match(prefix)) or not LABEL_NAME.match(name) or len(name) > 63:
            fail(where, f"label key {key!r} is not valid")
        if value and (not LABEL_NAME.match(value) or len(value) > 63):
            fail(where, f"label {key}: value {value!r} is not valid")


def selects(selector, labels):
    return bool(selector) and all((labels or {}).get(k) == v for k, v in selector.items())


def check_build(folder, objects):
    seen = set()
    pods = [(o, o["spec"]["template"]) for o in objects if o["kind"] == "Deployment"]
    config_maps = {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
    for o in objects:
        where = f"{rel(folder)}: {o.get('kind')}/{o.get('metadata', {}).get('name')}"
        try:
            validate(o, version, strict=True)
        except ValidationError as e:
            fail(where, f"{'.'.join(str(p) for p in e.path) or '(top)'}: {e.message}")
            continue
        except SchemaNotFoundError as e:
            fail(where, e.message)
            continue
        name = o["metadata"]["name"]
        key = (o["kind"], o["metadata"].get("namespace"), name)
        if key in seen:
            fail(where, "defined twice")
        seen.add(key)
        pattern, limit = (DNS_LABEL, 63) if o["kind"] in ("Service", "Deployment", "Namespace") else (DNS_SUBDOMAIN, 253)
        if not pattern.match(name) or len(name) > limit:
            fail(where, f"name {name!r} is not a DNS-1123 {'label' if limit == 63 else 'subdomain'}")
        check_labels(where, o["metadata"].get("labels"))
        if o["kind"] == "Deployment":
            template = o["spec"]["template"]
            check_labels(where + " (pod)", template["metadata"].get("labels"))
            if not selects(o["spec"]["selector"].get("matchLabels"), template["metadata"].get("labels")):
                fail(where, "spec.selector does not select its own pods")
            spec = template["spec"]
            for volume in spec.get("volumes", []):
                cm = volume.get("configMap", {}).get("name")
                if cm and cm not in config_maps and not volume["configMap"].get("optional"):
                    fail(where, f"volume {volume['name']}: no ConfigMap {cm}")
            for c in spec["containers"]:
                ports = {p["containerPort"] for p in c.get("ports", [])}
                for p in c.get("ports", []):
                    if "name" in p and (not PORT_NAME.match(p["name"]) or len(p["name"]) > 15):
                        fail(where, f"container {c['name']}: port name {p['name']!r} is not an IANA service name")
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    port = c.get(probe, {}).get("grpc", {}).get("port")
                    if port is not None and port not in ports:
                        fail(where, f"container {c['name']}: {probe} asks port {port}, which the container does not declare")
                for env in c.get("env", []):
                    ref = env.get("valueFrom", {}).get("configMapKeyRef")
                    if ref and ref["name"] not in config_maps and not ref.get("optional"):
                        fail(where, f"env {env['name']}: no ConfigMap {ref['name']}")
        if o["kind"] in ("Service", "PodDisruptionBudget"):
            selector = o["spec"]["selector"] if o["kind"] == "Service" else o["spec"]["selector"].get("matchLabels")
            matched = [t for _, t in pods if selects(selector, t["metadata"].get("labels"))]
            if not matched:
                fail(where, "its selector selects no Deployment's pods")
            if o["kind"] == "Service":
                names = {p.get("name") for t in matched for c in t["spec"]["containers"] for p in c.get("ports", [])}
                for p in o["spec"].get("ports", []):
                    if isinstance(p.get("targetPort"), str) and p["targetPort"] not in names:
                        fail(where, f"port {p.get('name')}: targetPort {p['targetPort']} is no port of its pods")
    return len(objects)


folders = sorted(d for d, _, files in os.walk(root) if "kustomization.yaml" in files)
if not folders:
    sys.exit(f"ERROR {root}: no kustomization.yaml here: give the folder gym k8s render wrote")
used, counts = set(), []
for folder in folders:
    used |= files_of(folder)
    objects, how = build(folder)
    counts.append(f"{rel(folder)} {check_build(folder, objects)} objects ({how})")
for d, _, files in os.walk(root):
    for f in files:
        path = os.path.join(d, f)
        if f.endswith((".yaml", ".yml")) and path not in used:
            print(f"WARN {rel(path)}: no kustomization uses it: not checked", file=sys.stderr)
for e in errors:
    print(e, file=sys.stderr)
if errors:
    sys.exit(1)
print(f"valid for Kubernetes {version} (kubernetes-validate {kv_version}, strict): {'; '.join(counts)}")
PY
