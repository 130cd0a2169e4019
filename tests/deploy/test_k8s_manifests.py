"""The Kubernetes manifests in deploy/k8s, checked without a cluster (there is none here).

Each YAML document is parsed and held to the Kubernetes API's shape where mistakes are silent (known
kinds and apiVersions, field names of pods and containers, selectors that match) and to the service's
own facts: the health endpoints in HealthApi.cs, the ports, configuration keys in appsettings.json or
the Dockerfile, Dockerfile targets and users, the trainer's command line, the shutdown timeout against
the longest request. What this cannot show (scheduling, storage classes, images) is in docs/deployment.md.
"""
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
sys.path.insert(0, str(ROOT / "src" / "Training"))

KINDS = {
    ("v1", "Service"), ("v1", "PersistentVolumeClaim"), ("v1", "Secret"), ("apps/v1", "Deployment"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"), ("policy/v1", "PodDisruptionBudget"), ("batch/v1", "Job"),
    ("kustomize.config.k8s.io/v1beta1", "Kustomization"),
}
# Field names of the core/v1 types used here (a misspelt field is silently dropped by lenient clients).
POD_FIELDS = {"containers", "initContainers", "volumes", "securityContext", "terminationGracePeriodSeconds",
              "nodeSelector", "tolerations", "topologySpreadConstraints", "restartPolicy", "affinity",
              "serviceAccountName", "priorityClassName"}
CONTAINER_FIELDS = {"name", "image", "command", "args", "ports", "env", "envFrom", "resources", "startupProbe",
                    "livenessProbe", "readinessProbe", "lifecycle", "securityContext", "volumeMounts", "workingDir"}
PROBE_FIELDS = {"httpGet", "periodSeconds", "timeoutSeconds", "failureThreshold", "successThreshold",
                "initialDelaySeconds"}
SECURITY_FIELDS = {"allowPrivilegeEscalation", "readOnlyRootFilesystem", "capabilities", "runAsNonRoot",
                   "runAsUser", "runAsGroup"}
POD_SECURITY_FIELDS = {"runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup", "seccompProfile"}
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Environment variables that are not configuration sections: host settings and the trainer's tools.
HOST_ENV = {"ASPNETCORE_URLS", "DOTNET_shutdownTimeoutSeconds", "HOME", "MPLCONFIGDIR"}


def _documents():
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                docs.append((path.name, doc))
    return docs


DOCS = _documents()


def _one(kind, name):
    [doc] = [d for _, d in DOCS if d["kind"] == kind and d["metadata"].get("name", d["metadata"].get("generateName")) == name]
    return doc


def _workloads():
    return [(f, d) for f, d in DOCS if d["kind"] in ("Deployment", "Job")]


def _api_deployments():
    return [d for _, d in DOCS if d["kind"] == "Deployment"]


def _container(workload, name):
    return next(c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def _env(container):
    return {e["name"]: e for e in container.get("env", [])}


def _appsettings():
    return json.loads((ROOT / "src" / "Api" / "appsettings.json").read_text())


def _dockerfile():
    return (ROOT / "Dockerfile").read_text()


def _dockerfile_env_names():
    text = _dockerfile().replace("\\\n", " ")
    return {m for line in text.splitlines() if line.startswith("ENV ") for m in re.findall(r"(\w+)=", line)}


def _seconds(value):
    return int(value)


def test_every_document_is_a_known_kind_with_a_valid_name():
    assert len(DOCS) >= 8
    for file, doc in DOCS:
        assert (doc.get("apiVersion"), doc.get("kind")) in KINDS, (file, doc.get("apiVersion"), doc.get("kind"))
        if doc["kind"] == "Kustomization":
            continue
        name = doc["metadata"].get("name") or doc["metadata"]["generateName"].rstrip("-")
        assert NAME.match(name) and len(name) <= 63, (file, name)
        for key, value in doc["metadata"].get("labels", {}).items():
            assert isinstance(value, str) and len(value) <= 63, (file, key, value)


def test_the_kustomization_names_existing_files_and_every_file_is_accounted_for():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert all((K8S / r).is_file() for r in listed), listed
    documented_outside = {"postgres-secret.example.yaml", "api-gpu-deployment.yaml", "trainer-job.yaml"}
    assert {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"} == listed | documented_outside
    text = (K8S / "kustomization.yaml").read_text()
    assert all(f in text for f in documented_outside), "the kustomization's comment must say where the others go"


def test_pod_and_container_fields_are_kubernetes_fields():
    for file, w in _workloads():
        spec = w["spec"]["template"]["spec"]
        assert set(spec) <= POD_FIELDS, (file, set(spec) - POD_FIELDS)
        assert set(spec["securityContext"]) <= POD_SECURITY_FIELDS, file
        for c in spec["containers"] + spec.get("initContainers", []):
            assert set(c) <= CONTAINER_FIELDS, (file, c["name"], set(c) - CONTAINER_FIELDS)
            assert set(c["securityContext"]) <= SECURITY_FIELDS, (file, c["name"])
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe in c:
                    assert set(c[probe]) <= PROBE_FIELDS, (file, probe)


def test_workloads_run_as_non_root_on_a_read_only_root_filesystem_with_resources():
    for file, w in _workloads():
        spec = w["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, file
        assert spec["securityContext"]["runAsUser"] > 0, file
        for c in spec["containers"] + spec.get("initContainers", []):
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, (file, c["name"])
            assert sc["capabilities"]["drop"] == ["ALL"], (file, c["name"])
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][kind]), (file, c["name"], kind)
        for c in spec["containers"]:  # ASP.NET Core and Python need a writable /tmp
            tmp = [m for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp, (file, c["name"], "no /tmp")
            [volume] = [v for v in spec["volumes"] if v["name"] == tmp[0]["name"]]
            assert "emptyDir" in volume, file


def _quantity(q):
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    q = str(q)
    for suffix, factor in units.items():
        if q.endswith(suffix):
            return float(q[: -len(suffix)]) * factor
    return float(q)


def test_requests_do_not_exceed_limits():
    for file, w in _workloads():
        for c in w["spec"]["template"]["spec"]["containers"]:
            for resource, limit in c["resources"]["limits"].items():
                assert _quantity(c["resources"]["requests"][resource]) <= _quantity(limit), (file, c["name"], resource)


def test_images_and_users_match_the_dockerfile_targets():
    dockerfile = _dockerfile()
    images = {"api": "keypointservice:latest", "api-gpu": "keypointservice:gpu", "trainer": "keypointservice-trainer:latest"}
    for file, w in _workloads():
        target = w["spec"]["template"]["metadata"]["annotations"]["keypointservice/dockerfile-target"]
        assert re.search(rf"^FROM \S+ AS {re.escape(target)}$", dockerfile, re.M), (file, target)
        for c in w["spec"]["template"]["spec"]["containers"] + w["spec"]["template"]["spec"].get("initContainers", []):
            assert c["image"] == images[target], (file, c["name"], c["image"])
    # The API images run as "app", uid 1654 (the aspnet image's user; the GPU target creates it with that uid).
    assert "useradd --system --uid 1654" in dockerfile and dockerfile.count("USER app") == 2
    for d in _api_deployments():
        assert d["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 1654


def test_api_probes_use_the_service_health_endpoints_and_ports():
    health = (ROOT / "src" / "Api" / "Apis" / "HealthApi.cs").read_text()
    assert 'MapGroup("/health")' in health and 'MapGet("/live"' in health and 'MapGet("/ready"' in health
    for d in _api_deployments():
        api = _container(d, "api")
        ports = {p["name"]: p["containerPort"] for p in api["ports"]}
        env = _env(api)
        assert ports["http"] == int(env["ASPNETCORE_URLS"]["value"].rsplit(":", 1)[1]) == 8080
        assert ports["grpc"] == int(env["Grpc__Url"]["value"].rsplit(":", 1)[1])
        assert env["Grpc__Url"]["value"].startswith("http://0.0.0.0:"), "gRPC must listen beyond loopback in a pod"
        assert api["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
        assert api["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
        assert api["startupProbe"]["httpGet"]["path"] == "/health/live"


def test_graceful_shutdown_outlasts_the_longest_request():
    queue_timeout_s = _appsettings()["Inference"]["QueueTimeoutMs"] / 1000
    for d in _api_deployments():
        api = _container(d, "api")
        env = _env(api)
        shutdown_s = _seconds(env["DOTNET_shutdownTimeoutSeconds"]["value"])
        if "Inference__QueueTimeoutMs" in env:
            queue_timeout_s = int(env["Inference__QueueTimeoutMs"]["value"]) / 1000
        # A request may wait out the queue timeout and then run; 2x leaves room for the inference itself.
        assert shutdown_s >= 2 * queue_timeout_s, (shutdown_s, queue_timeout_s)
        pre_stop = api["lifecycle"]["preStop"]["exec"]["command"]
        assert pre_stop[0] == "sleep"
        assert d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > int(pre_stop[1]) + shutdown_s


def test_configuration_names_exist_in_appsettings_or_the_dockerfile():
    settings = _appsettings()
    dockerfile_env = _dockerfile_env_names()
    for file, w in _workloads():
        for c in w["spec"]["template"]["spec"]["containers"]:
            for name in _env(c):
                if name in HOST_ENV or name in dockerfile_env:
                    continue
                node = settings
                for part in name.split("__"):
                    if isinstance(node, list) and part.isdigit():
                        break  # an element of a list setting (ForwardedHeaders__KnownNetworks__0)
                    assert isinstance(node, dict) and part in node, (file, name, "not in appsettings.json")
                    node = node[part]


def test_model_store_is_a_shared_read_write_many_volume_read_only_for_the_api():
    pvc = _one("PersistentVolumeClaim", "keypoint-models")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    for d in _api_deployments():
        spec = d["spec"]["template"]["spec"]
        [volume] = [v for v in spec["volumes"] if v.get("persistentVolumeClaim", {}).get("claimName") == "keypoint-models"]
        api = _container(d, "api")
        [mount] = [m for m in api["volumeMounts"] if m["name"] == volume["name"]]
        assert mount["readOnly"] is True and mount["mountPath"] == _env(api)["ModelStore__Path"]["value"]
        [seed] = spec["initContainers"]
        assert any(m["name"] == volume["name"] and not m.get("readOnly") for m in seed["volumeMounts"])
        script = seed["command"][-1]
        assert ".tmp-seed-" in script and "mv -T" in script, "seeding must publish like the trainer: hidden copy, rename"


def test_bed_state_uses_postgres_with_the_connection_from_the_secret():
    secret = _one("Secret", "keypoint-postgres")
    for d in _api_deployments():
        env = _env(_container(d, "api"))
        assert env["Beds__Store"]["value"] == "postgres"
        ref = env["Beds__PostgresConnectionString"]["valueFrom"]["secretKeyRef"]
        assert "value" not in env["Beds__PostgresConnectionString"]
        assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]


def test_gpu_variant_asks_for_a_gpu_on_a_gpu_node():
    gpu = _one("Deployment", "keypoint-api-gpu")
    spec = gpu["spec"]["template"]["spec"]
    api = _container(gpu, "api")
    assert int(api["resources"]["limits"]["nvidia.com/gpu"]) >= 1
    assert spec["nodeSelector"], "the GPU variant must be scheduled on GPU nodes"
    assert _env(api)["OnnxRuntime__ExecutionProvider"]["value"] == "cuda"
    assert _env(api)["OnnxRuntime__ProviderRequired"]["value"] == "true"
    cpu = _one("Deployment", "keypoint-api")
    assert "nvidia.com/gpu" not in _container(cpu, "api")["resources"]["limits"]


def test_selectors_match_pods_and_the_service_reaches_both_variants():
    service = _one("Service", "keypoint-api")
    for d in _api_deployments():
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert d["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert service["spec"]["selector"].items() <= labels.items(), d["metadata"]["name"]
        names = {p["name"] for p in _container(d, "api")["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= names
    # The two Deployments must not select each other's pods.
    a, b = (d["spec"]["selector"]["matchLabels"] for d in _api_deployments())
    assert a.items() != b.items() and any(a.get(k) != b.get(k) for k in a.keys() & b.keys())
    pdb = _one("PodDisruptionBudget", "keypoint-api")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= service["spec"]["selector"].items()


def test_autoscaler_targets_the_cpu_deployment():
    hpa = _one("HorizontalPodAutoscaler", "keypoint-api")
    ref = hpa["spec"]["scaleTargetRef"]
    target = _one(ref["kind"], ref["name"])
    assert ref["apiVersion"] == target["apiVersion"]
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu" and "cpu" in _container(target, "api")["resources"]["requests"]


def test_trainer_job_runs_a_real_command_line_and_publishes_into_the_store():
    from keypoint_trainer.cli import build_parser

    job = _one("Job", "keypoint-trainer-")
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] in ("Never", "OnFailure")
    trainer = _container(job, "trainer")
    args = build_parser().parse_args(trainer["args"])  # exits (SystemExit) on an unknown command or flag
    assert args.command == "pipeline" and args.resume
    mounts = {m["mountPath"]: m["name"] for m in trainer["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes[mounts[str(args.store)]]["persistentVolumeClaim"]["claimName"] == "keypoint-models"
    runs = volumes[mounts["/worker/runs"]]  # the checkpoints survive a killed pod, so --resume resumes
    assert _one("PersistentVolumeClaim", runs["persistentVolumeClaim"]["claimName"])
    assert not any(m.get("readOnly") for m in trainer["volumeMounts"])


def test_the_seed_script_copies_the_baked_models_once_and_leaves_no_staging_directory(tmp_path):
    """The init container's script, run here with /bin/sh on temporary directories: twice at once (two
    pods starting together), then again over a store the trainer has already published into."""
    import subprocess

    baked, store = ROOT / "models", tmp_path / "store"
    store.mkdir()
    [seed] = _one("Deployment", "keypoint-api")["spec"]["template"]["spec"]["initContainers"]
    script = seed["command"][-1].replace("/models/", f"{baked}/").replace("/store", str(store))
    assert str(store) in script and str(baked) in script
    runs = [subprocess.Popen(["/bin/sh", "-ec", script], env={"HOSTNAME": f"pod-{i}", "PATH": "/usr/bin:/bin"},
                             stderr=subprocess.PIPE, text=True) for i in range(2)]
    for r in runs:
        _, err = r.communicate(timeout=120)
        assert r.returncode == 0, err

    def tree(root):
        return sorted((p.relative_to(root).as_posix(), p.read_bytes()) for p in root.rglob("*") if p.is_file())

    assert tree(store) == tree(baked)
    assert not [p for p in store.rglob(".*")], "staging directories left behind"
    # A version already in the store (published by the trainer) is left alone.
    published = next(store.glob("*/*/manifest.json"))
    published.write_text("{}")
    subprocess.run(["/bin/sh", "-ec", script], env={"HOSTNAME": "pod-3", "PATH": "/usr/bin:/bin"}, check=True)
    assert published.read_text() == "{}"
