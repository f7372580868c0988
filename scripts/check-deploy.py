#!/usr/bin/env python3
"""Checks deploy/ without Docker or Kubernetes: what each file passes to `quorumkv serve`
exists, ports and probes agree across files, the Dockerfile builds the way deploy/README.md
says, the runtime image has the libraries the binary links, and the unit file verifies.
Security: every deploy runs secured (--acl and --tls-cert/--tls-key/--tls-ca, never
--insecure), its secrets are mounted where the flags point, probes and health checks use
HTTPS, and the binary refuses each deploy's arguments once the ACL and TLS are taken out.

Usage: scripts/check-deploy.py path/to/quorumkv
Needs PyYAML (scripts/setup-test-tools.sh installs it). Prints each problem and exits 1.
"""
import glob
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY = os.path.join(ROOT, "deploy")
problems = []


def check(condition, message):
    if not condition:
        problems.append(message)
    return condition


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as file:
        return file.read()


def serve_flags(binary):
    """The long flags `quorumkv serve --help` lists."""
    help_text = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"(--[a-z][a-z-]+)", help_text))


def parse_serve(args, where, known):
    """`serve` arguments as {flag: [values]}; flags must be known."""
    check(args[:1] == ["serve"], f"{where}: runs {args[:1]}, not quorumkv serve")
    flags, i = {}, 1
    while i < len(args):
        flag = args[i]
        if check(flag in known, f"{where}: {flag} is not a flag of quorumkv serve"):
            flags.setdefault(flag, []).append(args[i + 1] if i + 1 < len(args) else "")
        i += 2
    return flags


# --- secure by default ----------------------------------------------------------------------

SECURITY_FLAGS = ("--acl", "--tls-cert", "--tls-key", "--tls-ca")
SECURITY_KEYS = ("acl", "tls_cert", "tls_key", "tls_ca")


def clean_environment():
    """This environment without QUORUMKV_* variables, so none of them changes a verdict."""
    return {k: v for k, v in os.environ.items() if not k.startswith("QUORUMKV_")}


def print_config(binary, args):
    return subprocess.run([binary] + args + ["--print-config"], capture_output=True, text=True, env=clean_environment())


def without_security(args):
    """`args` with the ACL and TLS flags (and --peer-tls) and their values taken out."""
    result, i = [], 0
    while i < len(args):
        if args[i] in SECURITY_FLAGS + ("--peer-tls",):
            i += 2
            continue
        result.append(args[i])
        i += 1
    return result


def check_refused(run, where):
    """A refusal as serve gives it: exit 2 and one line naming what is missing."""
    lines = run.stderr.strip().splitlines()
    check(run.returncode == 2, f"{where}: without --acl and TLS, serve exits {run.returncode}, expected 2 (refused)")
    check(len(lines) == 1 and "not loopback" in run.stderr and "--insecure" in run.stderr,
          f"{where}: without --acl and TLS, serve does not refuse in one line: {run.stderr.strip()!r}")


def check_secured(binary, args, flags, where):
    """`serve` arguments of a deploy: secured, accepted by the binary, refused without security."""
    for flag in SECURITY_FLAGS:
        check(flag in flags, f"{where}: serve runs without {flag} (deploys are secured: --acl and --tls-cert/--tls-key/--tls-ca)")
    check("--insecure" not in args, f"{where}: uses --insecure; nothing in deploy/ may")
    check(flags.get("--peer-tls", ["require"])[0] != "off", f"{where}: --peer-tls off leaves the peer port in plain text")
    accepted = print_config(binary, args)
    check(accepted.returncode == 0, f"{where}: serve --print-config refuses the deploy's own arguments: {accepted.stderr.strip()}")
    check_refused(print_config(binary, without_security(args)), where)


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def host_of(address):
    return address.rsplit(":", 1)[0]


# --- Dockerfile ---------------------------------------------------------------------------

def dockerfile_stages():
    """[(from line, [(instruction, arguments)])] with continuations joined."""
    text = re.sub(r"\\\n", " ", read("deploy", "docker", "Dockerfile"))
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append((rest.strip(), []))
        elif stages:
            stages[-1][1].append((instruction.upper(), rest.strip()))
    return stages


def apt_packages(command):
    packages = set()
    for part in command.split("&&"):
        words = shlex.split(part)
        if "apt-get" in words and "install" in words:
            packages |= {w for w in words[words.index("install") + 1:] if not w.startswith("-")}
    return packages


def run_commands(stage):
    return [part.strip() for instruction, rest in stage[1] if instruction == "RUN" for part in rest.split("&&")]


def readme_build_block():
    readme = read("deploy", "README.md")
    match = re.search(r"## Build the binary.*?```sh\n(.*?)```", readme, re.S)
    check(match, "deploy/README.md has no '## Build the binary' section with a sh block")
    return [line.strip() for line in (match.group(1) if match else "").splitlines() if line.strip()]


def check_dockerfile(binary, known):
    stages = dockerfile_stages()
    if not check(len(stages) >= 2, "deploy/docker/Dockerfile is not multi-stage"):
        return {}
    build, runtime = stages[0], stages[-1]
    check(build[0].lower().endswith(" as build"), f"the first stage is not named build: FROM {build[0]}")
    check("slim" in runtime[0], f"the runtime stage is not a slim image: FROM {runtime[0]}")
    check(not runtime[0].startswith("swift"), "the runtime stage is based on the Swift toolchain image")
    instructions = dict((i, r) for i, r in runtime[1])
    check(any(i == "COPY" and r.startswith("--from=build") for i, r in runtime[1]), "the runtime stage copies nothing from the build stage")

    # The build stage runs what deploy/README.md tells people to run.
    block = readme_build_block()
    build_runs = run_commands(build)
    swift_builds = [c for c in build_runs if c.startswith("swift build") or c.startswith("install ")]
    check(swift_builds, "the build stage runs no swift build")
    for command in swift_builds:
        check(command in block, f"the Dockerfile runs `{command}`, which deploy/README.md's build block does not")
    for command in block:
        if command.startswith("swift build") or command.startswith("install "):
            check(command in build_runs, f"deploy/README.md says `{command}`, which the Dockerfile's build stage does not run")
    readme_packages = set().union(*(apt_packages(c) for c in block)) if block else set()
    docker_packages = set().union(*(apt_packages(c) for c in build_runs))
    check(readme_packages == docker_packages, f"build packages differ: README {sorted(readme_packages)}, Dockerfile {sorted(docker_packages)}")
    setup_packages = set(re.search(r"for package in ([^;]+);", read("scripts", "setup.sh")).group(1).split()) - {"curl"}
    check(docker_packages == setup_packages, f"the Dockerfile's build packages {sorted(docker_packages)} differ from scripts/setup.sh's {sorted(setup_packages)}")

    # Every shared library the binary links comes from a package the runtime stage installs.
    runtime_packages = set().union(*(apt_packages(c) for c in run_commands(runtime)))
    check_linked_libraries(binary, runtime_packages)

    # Ports, user, health check, default command.
    exposed = {int(p) for p in instructions.get("EXPOSE", "").split()}
    check(instructions.get("USER", "root") not in ("root", "0"), "the runtime image runs as root")
    health = instructions.get("HEALTHCHECK", "")
    health_words = " ".join(re.sub(r'[\[\]",]', " ", health).split())
    check("/health" in health or "cluster health" in health_words, "the image's HEALTHCHECK does not ask /health")
    cmd = parse_serve(json.loads(instructions.get("CMD", "[]")), "Dockerfile CMD", known)
    for flag in ("--http", "--peer", "--resp"):
        if check(flag in cmd, f"Dockerfile CMD has no {flag}"):
            check(port_of(cmd[flag][0]) in exposed, f"Dockerfile CMD {flag} port is not EXPOSEd ({sorted(exposed)})")
    check(re.search(rf"https://(localhost|127\.0\.0\.1):{port_of(cmd.get('--http', [':0'])[0])}\b", health),
          "the HEALTHCHECK does not ask https:// on the CMD's --http port")
    check_secured(binary, json.loads(instructions.get("CMD", "[]")), cmd, "Dockerfile CMD")
    uid = re.search(r"--uid (\d+)", " ".join(run_commands(runtime)))
    return {"exposed": exposed, "uid": int(uid.group(1)) if uid else None, "data": cmd.get("--data-dir", [""])[0]}


def check_linked_libraries(binary, runtime_packages):
    if not shutil.which("ldd") or not shutil.which("dpkg"):
        print("check-deploy: ldd or dpkg missing; linked libraries not checked")
        return
    # Always in debian:*-slim (apt itself needs them).
    base = {"libc6", "libstdc++6", "libgcc-s1", "zlib1g"}
    output = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for name, path in re.findall(r"^\s*(\S+) => (/\S+)", output, re.M):
        if "/swift/" in path:
            continue  # the Swift runtime: linked in with --static-swift-stdlib
        owner = None
        for candidate in {path, os.path.realpath(path), path.replace("/lib/", "/usr/lib/", 1)}:
            found = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if found.returncode == 0:
                owner = found.stdout.split(":")[0]
                break
        if check(owner, f"no Debian package owns {path} ({name}), which the binary links"):
            check(owner in runtime_packages | base,
                  f"the binary links {name} from {owner}, which the runtime image does not install ({sorted(runtime_packages)})")


# --- compose ------------------------------------------------------------------------------

def v_read_only(service, target):
    return any(v.split(":")[1] == target and v.endswith(":ro") for v in service.get("volumes", []))


def check_compose(binary, known, image):
    compose = yaml.safe_load(read("deploy", "docker", "compose.yaml"))
    services = compose.get("services", {})
    check(len(services) == 3, f"compose.yaml has {len(services)} services, expected 3 nodes")
    member_lists, host_ports, volumes_used = [], [], []
    for name, service in services.items():
        where = f"compose service {name}"
        build = service.get("build", {})
        dockerfile = os.path.normpath(os.path.join(DEPLOY, "docker", build.get("context", "."), build.get("dockerfile", "Dockerfile")))
        check(os.path.exists(dockerfile), f"{where}: builds {dockerfile}, which does not exist")
        check(service.get("image") == image, f"{where}: image {service.get('image')}, the StatefulSet runs {image}")
        flags = parse_serve(service.get("command", []), where, known)
        node, peer = flags.get("--node-id", [""])[0], flags.get("--peer", [""])[0]
        members = flags.get("--member", [])
        member_lists.append(members)
        check(f"{node}={peer}" in members, f"{where}: its member entry is not {node}={peer}")
        check(host_of(peer) in (name, service.get("hostname")), f"{where}: --peer {peer} is not its own name on the compose network")
        http = port_of(flags.get("--http", [":0"])[0])
        mapped = {int(p.split(":")[-1]): int(p.split(":")[0]) for p in service.get("ports", [])}
        check(http in mapped, f"{where}: --http port {http} is not published ({service.get('ports')})")
        host_ports += list(mapped.values())
        test = " ".join(service.get("healthcheck", {}).get("test", []))
        check(("/health" in test or "cluster health" in test) and re.search(rf"https://(localhost|127\.0\.0\.1):{http}\b", test),
              f"{where}: the health check does not ask /health over https:// on port {http}")
        check_secured(binary, service.get("command", []), flags, where)
        targets = {v.split(":")[1]: v.split(":")[0] for v in service.get("volumes", [])}
        for flag in SECURITY_FLAGS:
            path = flags.get(flag, [""])[0]
            source = targets.get(path, "")
            check(source.startswith("./secrets/") and v_read_only(service, path),
                  f"{where}: {flag} {path} is not mounted read-only from ./secrets/")
        data = flags.get("--data-dir", [""])[0]
        mounts = [v for v in service.get("volumes", []) if v.split(":")[1] == data]
        if check(mounts, f"{where}: no volume at --data-dir {data}"):
            volumes_used.append(mounts[0].split(":")[0])
    check(all(m == member_lists[0] for m in member_lists), "compose services have different --member lists")
    check(len(host_ports) == len(set(host_ports)), f"compose publishes a host port twice: {host_ports}")
    check(len(set(volumes_used)) == len(volumes_used), "two compose nodes share a volume")
    check(set(volumes_used) <= set(compose.get("volumes", {})), "a compose node uses an undeclared volume")


# --- Kubernetes ---------------------------------------------------------------------------

def k8s_documents():
    documents, files = [], []
    for path in sorted(glob.glob(os.path.join(DEPLOY, "k8s", "*.yaml"))):
        if os.path.basename(path) == "kustomization.yaml":
            continue
        files.append(os.path.basename(path))
        with open(path, encoding="utf-8") as file:
            documents += [d for d in yaml.safe_load_all(file) if d]
    kustomization = yaml.safe_load(read("deploy", "k8s", "kustomization.yaml"))
    check(sorted(kustomization.get("resources", [])) == files, f"kustomization.yaml lists {kustomization.get('resources')}, the folder has {files}")
    return documents


def run_start_script(container, pod, namespace):
    """Runs the container's start-up script with a stand-in quorumkv that prints its arguments."""
    script = container["args"][0]
    env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    with tempfile.TemporaryDirectory() as folder:
        stand_in = os.path.join(folder, "quorumkv")
        with open(stand_in, "w") as file:
            file.write('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
        os.chmod(stand_in, stat.S_IRWXU)
        env.update(POD_NAME=pod, POD_NAMESPACE=namespace, PATH=f"{folder}:{os.environ['PATH']}")
        result = subprocess.run(container["command"] + [script], capture_output=True, text=True, env=env)
    check(result.returncode == 0, f"the StatefulSet's start-up script failed for {pod}: {result.stderr.strip()}")
    return result.stdout.splitlines()


def check_k8s(binary, known, docker):
    documents = k8s_documents()
    by_kind = {}
    for document in documents:
        by_kind.setdefault(document["kind"], []).append(document)
    sets = by_kind.get("StatefulSet", [])
    if not check(len(sets) == 1, "deploy/k8s has no single StatefulSet"):
        return None
    statefulset = sets[0]
    spec, template = statefulset["spec"], statefulset["spec"]["template"]
    labels = template["metadata"]["labels"]
    matches = lambda selector: selector and all(labels.get(k) == v for k, v in selector.items())
    check(matches(spec["selector"]["matchLabels"]), "the StatefulSet's selector does not match its pods")
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    headless = services.get(spec["serviceName"])
    if check(headless, f"no Service named {spec['serviceName']} (the StatefulSet's serviceName)"):
        check(headless["spec"].get("clusterIP") == "None", "the StatefulSet's Service is not headless (clusterIP: None)")
        check(headless["spec"].get("publishNotReadyAddresses") is True, "the headless Service hides pods that are not ready; peers could not find each other while starting")
    for service in services.values():
        check(matches(service["spec"].get("selector")), f"Service {service['metadata']['name']} does not select the pods")
    budgets = by_kind.get("PodDisruptionBudget", [])
    check(budgets and matches(budgets[0]["spec"]["selector"]["matchLabels"]), "no PodDisruptionBudget selecting the pods")

    pod_spec = template["spec"]
    container = pod_spec["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    for service in services.values():
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            check(target in ports or target in ports.values(), f"Service {service['metadata']['name']} targets port {target}, which the container lacks")
    for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
        probe = container.get(kind, {}).get("httpGet", {})
        check(probe.get("path") == "/health", f"{kind} does not ask /health")
        check(probe.get("scheme") == "HTTPS", f"{kind} does not use scheme HTTPS (the http port speaks HTTPS only)")
        check(ports.get(probe.get("port"), probe.get("port")) == ports.get("http"), f"{kind} does not use the http port")
    check(set(ports.values()) <= docker.get("exposed", set()), f"container ports {ports} are not all EXPOSEd by the image")
    check(pod_spec.get("securityContext", {}).get("runAsUser") == docker.get("uid"), "runAsUser is not the image's quorumkv uid")

    namespace, replicas = "ns", spec["replicas"]
    domain = f"{spec['serviceName']}.{namespace}.svc.cluster.local"
    name = statefulset["metadata"]["name"]
    runs = {i: parse_serve(run_start_script(container, f"{name}-{i}", namespace), f"{name}-{i}", known) for i in range(replicas + 1)}
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    mounts_by_path = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    for i, flags in runs.items():
        where = f"pod {name}-{i}"
        check_secured(binary, run_start_script(container, f"{name}-{i}", namespace), flags, where)
        for flag in SECURITY_FLAGS:
            path = flags.get(flag, [""])[0]
            mount = mounts_by_path.get(os.path.dirname(path))
            if check(mount, f"{where}: {flag} {path} is in no mounted volume"):
                secret = volumes.get(mount["name"], {}).get("secret", {})
                check(secret.get("secretName"), f"{where}: {flag} {path} is mounted from volume {mount['name']}, which is not a Secret")
                check(mount.get("readOnly") is True, f"{where}: the Secret volume {mount['name']} is not mounted readOnly")
        peer = flags.get("--peer", [""])[0]
        check(peer == f"{name}-{i}.{domain}:{ports.get('peer')}", f"{where}: --peer {peer} is not its stable DNS name on the peer port")
        check(port_of(flags.get("--http", [":0"])[0]) == ports.get("http"), f"{where}: --http port differs from the container's http port")
        check(port_of(flags.get("--resp", [":0"])[0]) == ports.get("resp"), f"{where}: --resp port differs from the container's resp port")
        mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
        claim = spec["volumeClaimTemplates"][0]["metadata"]["name"]
        check(flags.get("--data-dir", [""])[0] == mounts.get(claim), f"{where}: --data-dir is not the volume {claim}'s mount")
        if i < replicas:
            check(flags.get("--member") == runs[0].get("--member"), f"{where}: its member list differs from {name}-0's")
            check(f"{name}-{i}={peer}" in flags.get("--member", []), f"{where}: it is not in its own member list")
        else:
            check(flags.get("--join") == runs[0].get("--peer") and "--member" not in flags,
                  f"{where} (added by scaling): does not --join through {name}-0's peer address")
    return container.get("image")


# --- systemd ------------------------------------------------------------------------------

def check_systemd(binary, known):
    unit = read("deploy", "systemd", "quorumkv.service")
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M)
    if not check(exec_start, "quorumkv.service has no ExecStart"):
        return
    words = shlex.split(exec_start.group(1))
    check(words[0] == "/usr/local/bin/quorumkv", f"ExecStart runs {words[0]}; deploy/README.md installs /usr/local/bin/quorumkv")
    check("/usr/local/bin/quorumkv" in " ".join(readme_build_block()), "deploy/README.md does not install to /usr/local/bin/quorumkv")
    flags = parse_serve(words[1:], "ExecStart", known)
    node = json.loads(read("deploy", "systemd", "node.json"))
    # The binary itself reads node.json: every key must come back in its effective settings.
    printed = subprocess.run(
        [binary, "serve", "--print-config", "--config", os.path.join(ROOT, "deploy", "systemd", "node.json")],
        capture_output=True, text=True)
    if check(printed.returncode == 0, f"serve --print-config rejects node.json: {printed.stderr.strip()}"):
        effective = json.loads(printed.stdout)
        check(all(effective.get(key) == value for key, value in node.items()),
              f"node.json values not taken by serve --config: {sorted(k for k, v in node.items() if effective.get(k) != v)}")
    check(f"{node.get('node_id')}={node.get('peer')}" in node.get("members", []), "node.json: this node's member entry is not node_id=peer")
    for key in SECURITY_KEYS:
        check(str(node.get(key, "")).startswith("/etc/quorumkv/"), f"node.json: no {key} under /etc/quorumkv (deploys are secured)")
    check(not node.get("insecure") and "--insecure" not in words, "the systemd deploy uses insecure; nothing in deploy/ may")
    check(node.get("peer_tls", "require") != "off", "node.json: peer_tls off leaves the peer port in plain text")
    with tempfile.TemporaryDirectory() as folder:
        bare = os.path.join(folder, "node.json")
        with open(bare, "w") as file:
            json.dump({k: v for k, v in node.items() if k not in SECURITY_KEYS + ("peer_tls",)}, file)
        check_refused(print_config(binary, ["serve", "--config", bare]), "systemd node.json")
    state = re.search(r"^StateDirectory=(\S+)", unit, re.M)
    check(state and node.get("data_dir") == f"/var/lib/{state.group(1)}", "node.json's data_dir is not the unit's StateDirectory")
    check(os.path.basename(flags.get("--config", [""])[0]) == "node.json", "ExecStart does not read node.json")
    check(re.search(r"^Restart=on-failure", unit, re.M), "the unit restarts after a clean exit (a node that left would come back)")
    if not shutil.which("systemd-analyze"):
        print("check-deploy: systemd-analyze missing; the unit was checked statically only")
        return
    with tempfile.TemporaryDirectory() as folder:
        copy = os.path.join(folder, "quorumkv.service")
        with open(copy, "w") as file:
            file.write(unit.replace("/usr/local/bin/quorumkv", os.path.abspath(binary)))
        result = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True)
    complaints = (result.stdout + result.stderr).strip()
    check(result.returncode == 0 and not complaints, f"systemd-analyze verify: {complaints}")


def main():
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: scripts/check-deploy.py path/to/quorumkv (build it first: swift build --product quorumkv)")
    binary = sys.argv[1]
    known = serve_flags(binary)
    docker = check_dockerfile(binary, known)
    image = check_k8s(binary, known, docker)
    check_compose(binary, known, image)
    check_systemd(binary, known)
    for problem in problems:
        print(f"check-deploy: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print("check-deploy: Dockerfile, compose.yaml, Kubernetes manifests and the systemd unit agree with the binary and each other, and all run secured")


if __name__ == "__main__":
    main()
