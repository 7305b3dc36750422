"""The multi-process deployment files, checked with no Docker engine.

docker-compose.yml is validated against the Compose Specification's JSON schema as vendored by
the `check-jsonschema` package (a dev dependency: its `vendor/compose-spec.json` is the
compose-spec project's `schema/compose-spec.json`), then against the topology it deploys
(deploy/topology.compose.toml) and the `lgsp serve` command line. The Dockerfile is read
instruction by instruction, and its HEALTHCHECK probe is run against a local stub server.

Each consistency check returns a list of problems, so that the tests at the end can show that a
broken file is caught (a port published twice, a command naming no instance, ...).
"""

from __future__ import annotations

import argparse
import copy
import http.server
import importlib.resources
import json
import re
import shlex
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema  # type: ignore[import-untyped]
import pytest
from ruamel.yaml import YAML

from lgsp.cli import _parser as lgsp_parser
from lgsp.composition import MOCK_SYSTEMS
from lgsp.settings import Settings
from lgsp.topology import TOPOLOGY_2026, Topology, load_topology

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
TOPOLOGY_FILE = ROOT / "deploy" / "topology.compose.toml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

DATABASE_SERVICE = "postgres"
CONTAINER_PORT = 8000
"""Every gateway listens on this port inside its container: `lgsp serve --port`, EXPOSE and the
HEALTHCHECK probe agree on it, and the topology's urls name it."""

SHARED_ENVIRONMENT = {
    "LGSP_DATABASE_URL",
    "LGSP_TOPOLOGY_FILE",
    "LGSP_PROFILE",
    "LGSP_SEED",
    "LGSP_ERA",
    "LGSP_FEDERATION_SECRET",
}
"""Set, with one value, on every gateway (each also has its own LGSP_PUBLIC_URL)."""

Compose = dict[str, Any]


# --- loading ------------------------------------------------------------------------------------


def compose_schema() -> dict[str, Any]:
    """The Compose Specification schema that check-jsonschema ships (`vendor.compose-spec`)."""
    resource = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads(resource.joinpath("compose-spec.json").read_bytes())
    return schema


def load_compose(path: Path = COMPOSE_FILE) -> Compose:
    """Parse as compose does: YAML 1.2, merge keys (`<<: *anchor`) applied, no duplicate keys."""
    loaded = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{path.name} is not a mapping"
    return loaded


@pytest.fixture(scope="module")
def compose() -> Compose:
    return load_compose()


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology(TOPOLOGY_FILE)


def gateways(compose: Compose) -> dict[str, dict[str, Any]]:
    """Every service but the database runs the bus's image."""
    services: dict[str, dict[str, Any]] = compose.get("services", {})
    return {name: service for name, service in services.items() if name != DATABASE_SERVICE}


_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str] | None = None) -> str:
    """Compose's `${NAME:-default}` interpolation, with `env` set (default: nothing set)."""
    given = env or {}

    def replace(match: re.Match[str]) -> str:
        if match["name"] in given:
            return given[match["name"]]
        if match["op"] in (":?", "?"):
            return f"<unset {match['name']}: {match['arg']}>"
        return match["arg"] if match["op"] in (":-", "-") else ""

    return _VARIABLE.sub(replace, value.replace("$$", "\0")).replace("\0", "$")


def serve_arguments(command: object) -> argparse.Namespace | str:
    """The parsed `lgsp serve` command line, or why it is not one."""
    if not isinstance(command, list) or not all(isinstance(word, str) for word in command):
        return f"command must be a list of strings (exec form), not {command!r}"
    if command[:2] != ["lgsp", "serve"]:
        return f"command must start with `lgsp serve`, not {shlex.join(command)!r}"
    try:
        return lgsp_parser().parse_args(command[1:])
    except SystemExit:
        return f"`lgsp` refuses the command line {shlex.join(command)!r}"


# --- consistency checks: each returns a list of problems ---------------------------------------


def schema_problems(compose: Compose, schema: Mapping[str, Any]) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in sorted(
            validator.iter_errors(compose), key=lambda e: [str(p) for p in e.absolute_path]
        )
    ]


def service_problems(compose: Compose, topology: Topology) -> list[str]:
    """One gateway service per instance and back, all of one image built from the Dockerfile."""
    services = gateways(compose)
    instances = {instance.name for instance in topology.instances}
    problems = [f"instance {name} has no compose service" for name in instances - set(services)]
    problems += [
        # an old province's paths are its successor's (lgsp/legacy_paths.py): no container
        f"service {name} is an old name of {topology.aliases[name].name}, not an instance"
        if name in topology.aliases
        else f"service {name} is no instance"
        for name in set(services) - instances
    ]
    images = {
        (json.dumps(s.get("build"), sort_keys=True), s.get("image")) for s in services.values()
    }
    if len(images) != 1:
        problems.append(f"gateways must share one build and image, found {sorted(images)}")
    for name, service in services.items():
        build = service.get("build")
        context = build if isinstance(build, str) else (build or {}).get("context")
        dockerfile = "Dockerfile" if isinstance(build, str) else (build or {}).get("dockerfile")
        if context is None or (ROOT / context / (dockerfile or "Dockerfile")) != DOCKERFILE:
            problems.append(f"service {name} is not built from {DOCKERFILE.name}: {build!r}")
        if "image" not in service:
            problems.append(f"service {name} names no image: each gateway would build its own")
    return problems


_SHORT_PORT = re.compile(
    r"^(?:(?P<ip>\[[^\]]+\]|[^:\[\]]+):)?(?P<published>\d+):(?P<target>\d+)(?:/(?P<proto>tcp|udp))?$"
)


def published_ports(
    service: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> list[tuple[str, int, int] | str]:
    """(host ip, published port, target port) of each entry, or why an entry is not understood."""
    found: list[tuple[str, int, int] | str] = []
    for raw in service.get("ports", []):
        entry = interpolate(raw, env) if isinstance(raw, str) else raw
        if isinstance(entry, dict) and "published" in entry and "target" in entry:
            ip = str(entry.get("host_ip", "0.0.0.0"))  # noqa: S104 - compose's default
            found.append((ip, int(entry["published"]), int(entry["target"])))
            continue
        match = _SHORT_PORT.match(str(entry))
        if match is None:
            found.append(f"port {entry!r}: give the published port, [IP:]PUBLISHED:TARGET")
            continue
        ip = match["ip"] or "0.0.0.0"  # noqa: S104 - compose's default
        found.append((ip, int(match["published"]), int(match["target"])))
    return found


def port_problems(compose: Compose) -> list[str]:
    problems: list[str] = []
    owners: dict[int, str] = {}
    for name, service in compose.get("services", {}).items():
        ports = published_ports(service)
        problems += [f"service {name}: {p}" for p in ports if isinstance(p, str)]
        for _ip, published, target in (p for p in ports if not isinstance(p, str)):
            if published in owners:
                problems.append(
                    f"host port {published} published twice: {owners[published]}, {name}"
                )
            owners[published] = name
            if name != DATABASE_SERVICE and target != CONTAINER_PORT:
                problems.append(f"service {name} publishes {target}, not {CONTAINER_PORT}")
    for name, service in gateways(compose).items():
        if len(service.get("ports", [])) != 1:
            problems.append(f"service {name} must publish exactly one port")
    return problems


def command_problems(compose: Compose, topology: Topology) -> list[str]:
    """Each gateway serves its own instance, on the container port, and finds NDXP."""
    problems: list[str] = []
    national = topology.national
    for name, service in gateways(compose).items():
        args = serve_arguments(service.get("command"))
        if isinstance(args, str):
            problems.append(f"service {name}: {args}")
            continue
        for instance in args.instance or ["<none>"]:
            if topology.get(instance) is None:
                problems.append(f"service {name} serves {instance}, not in {TOPOLOGY_FILE.name}")
        if args.instance != [name]:
            problems.append(f"service {name} must serve exactly instance {name}: {args.instance}")
        if args.host != "0.0.0.0" or args.port != CONTAINER_PORT:  # noqa: S104 - in a container
            problems.append(f"service {name} must listen on 0.0.0.0:{CONTAINER_PORT}")
        spec = topology.get(name)
        if spec is not None and spec.kind == "province":
            expected = str(national.url) if national is not None and national.url else None
            if args.ndxp_url is None or args.ndxp_url.rstrip("/") != (expected or "").rstrip("/"):
                problems.append(
                    f"service {name}: --ndxp-url {args.ndxp_url} is not NDXP's {expected}"
                )
        elif args.ndxp_url is not None:
            problems.append(f"service {name} is NDXP: it takes no --ndxp-url")
    return problems


def public_url_problems(name: str, service: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """The URL clients are told (banner, `/`, tokens' `iss`) is the host's published port, not
    the compose network's name, which the host cannot resolve."""
    public_url = interpolate(str(service.get("environment", {}).get("LGSP_PUBLIC_URL")), env)
    ports = [p for p in published_ports(service, env) if not isinstance(p, str)]
    host = env.get("LGSP_PUBLIC_HOST", "127.0.0.1")
    expected = [f"http://{host}:{published}" for _ip, published, _target in ports]
    if public_url not in expected:
        return [f"service {name}: LGSP_PUBLIC_URL {public_url} is not its host URL {expected}"]
    return []


def environment_problems(
    compose: Compose, topology: Topology, env: Mapping[str, str] | None = None
) -> list[str]:
    problems: list[str] = []
    services = gateways(compose)
    shared: dict[str, set[str]] = {key: set() for key in SHARED_ENVIRONMENT}
    for name, service in services.items():
        environment = service.get("environment", {})
        if not isinstance(environment, dict):
            problems.append(f"service {name}: give environment as a mapping")
            continue
        for key in SHARED_ENVIRONMENT:
            if key not in environment:
                problems.append(f"service {name} lacks {key}")
            else:
                shared[key].add(str(environment[key]))
        problems += public_url_problems(name, service, env or {})
        mounts = {
            volume.get("target"): volume
            for volume in service.get("volumes", [])
            if isinstance(volume, dict) and volume.get("type") == "bind"
        }
        mount = mounts.get(environment.get("LGSP_TOPOLOGY_FILE"))
        if mount is None or (ROOT / mount["source"]).resolve() != TOPOLOGY_FILE:
            problems.append(f"service {name}: LGSP_TOPOLOGY_FILE is not {TOPOLOGY_FILE.name}")
        elif not mount.get("read_only"):
            problems.append(f"service {name}: mount the topology read-only")
    problems += [
        f"{key} differs between gateways: {sorted(values)}"
        for key, values in shared.items()
        if len(values) > 1
    ]
    return problems


def database_problems(compose: Compose) -> list[str]:
    problems: list[str] = []
    database = compose.get("services", {}).get(DATABASE_SERVICE, {})
    if not str(database.get("image", "")).startswith("postgres:"):
        problems.append(f"{DATABASE_SERVICE} must run the official postgres image")
    test = database.get("healthcheck", {}).get("test", [])
    if "pg_isready" not in " ".join(test if isinstance(test, list) else [test]):
        problems.append(f"{DATABASE_SERVICE}'s healthcheck must use pg_isready")
    volumes = [v for v in database.get("volumes", []) if isinstance(v, dict)]
    if not any(
        v.get("type") == "volume" and v.get("source") in compose.get("volumes", {}) for v in volumes
    ):
        problems.append(f"{DATABASE_SERVICE} must keep its data in a named volume")
    environment = database.get("environment", {})
    for name, service in gateways(compose).items():
        url = urlsplit(
            interpolate(str(service.get("environment", {}).get("LGSP_DATABASE_URL", "")))
        )
        expected = (
            DATABASE_SERVICE,
            environment.get("POSTGRES_USER"),
            environment.get("POSTGRES_PASSWORD"),
            f"/{environment.get('POSTGRES_DB')}",
        )
        if (
            url.scheme != "postgresql"
            or (url.hostname, url.username, url.password, url.path) != expected
        ):
            problems.append(
                f"service {name}: LGSP_DATABASE_URL is not the {DATABASE_SERVICE} service's"
            )
    return problems


def startup_problems(compose: Compose, topology: Topology) -> list[str]:
    """Every gateway waits for a healthy database (it creates its tables when it starts)."""
    problems: list[str] = []
    for name, service in gateways(compose).items():
        depends_on = service.get("depends_on", {})
        if not isinstance(depends_on, dict):
            problems.append(f"service {name}: give depends_on as a mapping with conditions")
            continue
        if DATABASE_SERVICE not in depends_on:
            problems.append(f"service {name} does not wait for {DATABASE_SERVICE}")
        for dependency, condition in depends_on.items():
            if condition.get("condition") != "service_healthy":
                problems.append(f"service {name} must wait for {dependency} to be healthy")
    return problems


def assert_no_problems(problems: list[str]) -> None:
    assert not problems, "\n".join(["", *problems])


# --- the compose file --------------------------------------------------------------------------


def test_compose_file_follows_the_compose_specification(compose: Compose) -> None:
    schema = compose_schema()
    assert schema.get("title") == "Compose Specification"
    jsonschema.validators.validator_for(schema).check_schema(schema)

    assert_no_problems(schema_problems(compose, schema))


@pytest.mark.parametrize(
    "problems",
    [
        pytest.param(service_problems, id="every-instance-has-one-gateway-service-and-back"),
        pytest.param(lambda compose, _: port_problems(compose), id="published-ports-are-unique"),
        pytest.param(command_problems, id="each-gateway-serves-its-own-instance"),
        pytest.param(environment_problems, id="gateways-share-their-environment-and-topology"),
        pytest.param(lambda compose, _: database_problems(compose), id="gateways-use-postgres"),
        pytest.param(startup_problems, id="gateways-start-in-an-order-creating-each-table-once"),
    ],
)
def test_the_compose_file_passes_each_check(
    problems: Callable[[Compose, Topology], list[str]], compose: Compose, topology: Topology
) -> None:
    assert_no_problems(problems(compose, topology))


def test_each_gateway_environment_makes_valid_settings(
    compose: Compose, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, service in gateways(compose).items():
        with monkeypatch.context() as patch:
            for key, value in service["environment"].items():
                patch.setenv(key, interpolate(str(value)))
            settings = Settings(_env_file=None)

        assert settings.database_url is not None, name
        assert settings.database_url.startswith("postgresql+psycopg://"), name
        assert settings.topology_file == Path("/etc/lgsp/topology.toml"), name


# --- the topology ------------------------------------------------------------------------------


def test_compose_topology_loads_and_locates_each_instance_on_the_network(
    topology: Topology,
) -> None:
    for instance in topology.instances:
        assert str(instance.url) == f"http://{instance.name}:{CONTAINER_PORT}{instance.mount_path}"


def test_compose_topology_is_the_built_in_one_of_today(topology: Topology) -> None:
    """docker compose serves the same bus as `make run` (today's provinces, one container
    each, each with its legacy codes and old name): only the urls differ."""
    located = [instance.model_copy(update={"url": None}) for instance in topology.instances]

    assert located == list(TOPOLOGY_2026.instances), (
        f"{TOPOLOGY_FILE.name} must list the instances and systems of lgsp/topology.py's "
        "TOPOLOGY_2026, each with its url"
    )


def test_compose_serves_today_s_provinces_in_today_s_era(compose: Compose) -> None:
    environments = [service["environment"] for service in gateways(compose).values()]

    assert set(gateways(compose)) == {"ndxp", "angiang", "dongthap", "lamdong", "cantho", "gialai"}
    assert {interpolate(str(env["LGSP_ERA"])) for env in environments} == {"2026"}


def test_every_system_of_the_compose_topology_has_a_mock_or_a_url(topology: Topology) -> None:
    for instance in topology.instances:
        for system in instance.systems:
            assert system.url is not None or system.name in MOCK_SYSTEMS, (instance.name, system)


# --- the image ---------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continuation lines joined, comment lines dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if line.strip().startswith("#") or (not line.strip() and not pending):
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(arguments.split())))
            pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))


def only(instructions: list[tuple[str, str]], keyword: str) -> str:
    found = [arguments for name, arguments in instructions if name == keyword]
    assert len(found) == 1, f"the Dockerfile needs exactly one {keyword}, has {len(found)}"
    return found[0]


def healthcheck_probe(instructions: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """HEALTHCHECK's options and its command (exec form)."""
    options: dict[str, str] = {}
    rest = only(instructions, "HEALTHCHECK")
    while rest.startswith("--"):
        option, _, rest = rest.partition(" ")
        key, _, value = option.removeprefix("--").partition("=")
        options[key] = value
    keyword, _, command = rest.partition(" ")
    assert keyword == "CMD", f"HEALTHCHECK must run a command, not {rest!r}"
    probe: list[str] = json.loads(command)
    return options, probe


def test_image_is_python_slim_of_the_supported_version(dockerfile: list[tuple[str, str]]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    minimum = project["requires-python"].removeprefix(">=")

    assert only(dockerfile, "FROM") == f"python:{minimum}-slim"


def test_image_runs_as_a_user_other_than_root(dockerfile: list[tuple[str, str]]) -> None:
    users = [arguments for name, arguments in dockerfile if name == "USER"]

    assert users, "the image must switch to a user of its own"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_image_default_command_serves_the_whole_bus(dockerfile: list[tuple[str, str]]) -> None:
    args = serve_arguments(json.loads(only(dockerfile, "CMD")))

    assert not isinstance(args, str), args
    assert (args.host, args.port, args.instance) == ("0.0.0.0", CONTAINER_PORT, None)  # noqa: S104
    assert only(dockerfile, "EXPOSE") == str(CONTAINER_PORT)


def test_image_installs_what_the_wheel_is_built_from(dockerfile: list[tuple[str, str]]) -> None:
    """`pip install .` in the image needs every folder pyproject.toml puts in the wheel."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {"pyproject.toml", pyproject["project"]["readme"], *wheel["packages"]}
    needed |= set(wheel.get("force-include", {}))
    copied = {
        source.rstrip("/")
        for name, arguments in dockerfile
        if name == "COPY"
        for source in arguments.split()[:-1]
        if not source.startswith("--")
    }
    ignored = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert needed <= copied, f"the Dockerfile does not copy {sorted(needed - copied)}"
    assert not copied & ignored, f".dockerignore drops {sorted(copied & ignored)}"
    assert {".git", ".venv", ".lgsp"} <= ignored
    assert "pip install" in " ".join(arguments for name, arguments in dockerfile if name == "RUN")


def test_image_healthcheck_asks_readyz(dockerfile: list[tuple[str, str]]) -> None:
    """Healthy means ready: /healthz answers 200 before the bus is open."""
    options, probe = healthcheck_probe(dockerfile)

    assert set(options) <= {"interval", "timeout", "start-period", "retries"}, options
    assert probe[:2] == ["python", "-c"], "the slim image has no curl: probe with Python"
    compile(probe[2], "<HEALTHCHECK>", "exec")
    assert f"http://127.0.0.1:{CONTAINER_PORT}/readyz" in probe[2]


@pytest.fixture
def stub_gateway() -> Iterator[tuple[int, list[int]]]:
    """A server on a free loopback port answering GET /readyz with the status put in the list."""
    status = [200]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status[0] if self.path == "/readyz" else 404)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], status
    finally:
        server.shutdown()
        server.server_close()


def test_image_healthcheck_passes_only_while_readyz_answers_200(
    dockerfile: list[tuple[str, str]], stub_gateway: tuple[int, list[int]]
) -> None:
    port, status = stub_gateway
    _, probe = healthcheck_probe(dockerfile)
    code = probe[2].replace(f":{CONTAINER_PORT}/", f":{port}/")

    def probe_exit_code() -> int:
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)  # noqa: S603
        return run.returncode

    assert probe_exit_code() == 0
    status[0] = 503
    assert probe_exit_code() != 0


# --- the checks catch broken files -------------------------------------------------------------


def _mutated(compose: Compose, path: list[str | int], value: object) -> Compose:
    broken = copy.deepcopy(compose)
    target: Any = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return broken


def test_schema_check_catches_an_unknown_service_key(compose: Compose) -> None:
    broken = _mutated(compose, ["services", "ndxp", "port"], ["8000:8000"])

    assert any("port" in problem for problem in schema_problems(broken, compose_schema()))


def test_schema_check_catches_an_unknown_depends_on_condition(compose: Compose) -> None:
    broken = _mutated(
        compose, ["services", "ndxp", "depends_on", "postgres", "condition"], "service_ready"
    )

    assert schema_problems(broken, compose_schema()) != []


def test_port_check_catches_a_port_published_twice(compose: Compose) -> None:
    broken = _mutated(compose, ["services", "angiang", "ports"], ["127.0.0.1:8000:8000"])

    assert port_problems(broken) == ["host port 8000 published twice: ndxp, angiang"]


def test_command_check_catches_an_unknown_instance(compose: Compose, topology: Topology) -> None:
    command = [w.replace("angiang", "angian") for w in compose["services"]["angiang"]["command"]]
    broken = _mutated(compose, ["services", "angiang", "command"], command)

    problems = command_problems(broken, topology)

    assert f"service angiang serves angian, not in {TOPOLOGY_FILE.name}" in problems


def test_command_check_catches_a_missing_ndxp_url(compose: Compose, topology: Topology) -> None:
    command = compose["services"]["cantho"]["command"]
    broken = _mutated(compose, ["services", "cantho", "command"], command[:-2])

    assert command_problems(broken, topology) == [
        "service cantho: --ndxp-url None is not NDXP's http://ndxp:8000/ndxp"
    ]


def test_service_check_catches_a_service_without_instance(
    compose: Compose, topology: Topology
) -> None:
    broken = _mutated(compose, ["services", "soctrang"], compose["services"]["cantho"])

    assert service_problems(broken, topology) == ["service soctrang is no instance"]


def test_service_check_catches_a_container_for_an_old_province(
    compose: Compose, topology: Topology
) -> None:
    """Kiên Giang's paths are An Giang's: a container of its own would split its records."""
    broken = _mutated(compose, ["services", "kiengiang"], compose["services"]["angiang"])

    assert service_problems(broken, topology) == [
        "service kiengiang is an old name of angiang, not an instance"
    ]


def test_service_check_catches_a_gateway_of_another_image(
    compose: Compose, topology: Topology
) -> None:
    broken = _mutated(compose, ["services", "gialai", "image"], "lgsp-mock-bus:old")

    assert len(service_problems(broken, topology)) == 1


def test_environment_check_catches_a_second_federation_secret(
    compose: Compose, topology: Topology
) -> None:
    broken = _mutated(
        compose, ["services", "lamdong", "environment", "LGSP_FEDERATION_SECRET"], "other"
    )

    assert [p for p in environment_problems(broken, topology) if "FEDERATION" in p] != []


def test_public_urls_follow_the_host_ports_and_host_name_given(
    compose: Compose, topology: Topology
) -> None:
    env = {"LGSP_ANGIANG_PORT": "9001", "LGSP_PUBLIC_HOST": "bus.example"}
    angiang = compose["services"]["angiang"]

    assert published_ports(angiang, env) == [("127.0.0.1", 9001, CONTAINER_PORT)]
    assert interpolate(angiang["environment"]["LGSP_PUBLIC_URL"], env) == (
        "http://bus.example:9001"
    )
    assert environment_problems(compose, topology, env) == []


def test_environment_check_catches_a_public_url_on_the_compose_network(
    compose: Compose, topology: Topology
) -> None:
    broken = _mutated(
        compose,
        ["services", "angiang", "environment", "LGSP_PUBLIC_URL"],
        "http://angiang:8000",
    )

    assert environment_problems(broken, topology) == [
        "service angiang: LGSP_PUBLIC_URL http://angiang:8000 is not its host URL "
        "['http://127.0.0.1:8001']"
    ]


def test_startup_check_catches_a_gateway_that_does_not_wait_for_the_database(
    compose: Compose, topology: Topology
) -> None:
    broken = _mutated(compose, ["services", "dongthap", "depends_on"], {})

    assert startup_problems(broken, topology) == ["service dongthap does not wait for postgres"]
