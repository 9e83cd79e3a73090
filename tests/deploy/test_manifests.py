"""deploy/: the Kubernetes manifests against the Kubernetes schemas (kubernetes-validate, offline), the compose
file through `docker compose config` where the client has it, and what each must say for the service to run
right at scale (one beat, probes on /ready and /health, migrations before the API, nobody running as root).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
K8S_VERSION = "1.31.0"


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def resources() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in documents(path):
            if doc["kind"] != "Kustomization":
                found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


@pytest.mark.parametrize("path", sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"))
def test_each_manifest_is_valid_kubernetes(path: str) -> None:
    for doc in documents(K8S / path):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)  # raises on a wrong or unknown field


def test_a_misspelt_field_is_caught() -> None:
    # The check above could pass on anything if strictness were off: show it refuses a typo.
    bad = documents(K8S / "beat.yaml")[0]
    bad["spec"]["replica"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    listed = set(documents(K8S / "kustomization.yaml")[0]["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert listed == present


def test_the_roles_are_deployed_as_the_service_needs() -> None:
    found = resources()
    beat = found[("Deployment", "orders-beat")]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"] == {"type": "Recreate"}  # never two schedulers
    api = found[("Deployment", "orders-api")]["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert api["livenessProbe"]["httpGet"]["path"] == "/health"
    assert api["args"] == ["serve", "--no-migrate"]  # the Job migrates, once, before the rollout
    assert found[("Job", "orders-migrate")]["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    hpa = found[("HorizontalPodAutoscaler", "orders-api")]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "orders-api" and hpa["minReplicas"] >= 2
    for (kind, name), doc in found.items():
        if kind in ("Deployment", "Job"):
            pod = doc["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True, name
            refs = [ref for c in pod["containers"] for ref in c["envFrom"]]
            assert {"configMapRef": {"name": "orders-service"}} in refs, name
            assert {"secretRef": {"name": "orders-service"}} in refs, name


def test_the_image_runs_as_a_user_and_every_role_is_a_command() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "\nUSER 10001\n" in dockerfile
    assert 'ENTRYPOINT ["orders-service"]' in dockerfile
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "api", "worker", "beat", "flower"} <= services.keys()
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["api"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    commands = {name: services[name]["command"][0] for name in ("migrate", "api", "worker", "beat", "sandbox")}
    assert commands == {
        "migrate": "migrate",
        "api": "serve",
        "worker": "worker",
        "beat": "beat",
        "sandbox": "sandbox-courier",
    }


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_file_is_valid(tmp_path: Path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("no `docker compose` plugin nor docker-compose on this machine; the structure is checked above")
    # As an operator would have it: the compose file beside a .env filled in from env.example.
    shutil.copy(DEPLOY / "compose.yaml", tmp_path / "compose.yaml")
    shutil.copy(DEPLOY / "env.example", tmp_path / ".env")
    result = subprocess.run(
        [*command, "-f", str(tmp_path / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    assert result.returncode == 0, result.stderr


def test_stack_script_parses() -> None:
    assert subprocess.run(["bash", "-n", str(DEPLOY / "stack.sh")]).returncode == 0
