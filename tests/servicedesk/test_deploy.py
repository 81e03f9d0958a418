"""The deploy files agree with the code.

Compose, the Procfile, the systemd units and the Dockerfile all start the same entry points
(the WSGI application `servicedesk.wsgi:application`, the Celery app `servicedesk`), and every
environment variable settings.py reads is documented in `.env.example` and deploy/README.md.
No database needed: these tests read files and import modules.
"""

import importlib
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

WSGI_APP = "servicedesk.wsgi:application"
CELERY_APP = "servicedesk"
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("web", "worker", "beat")
UNITS = {
    "web": "servicedesk-web.service",
    "worker": "servicedesk-worker.service",
    "beat": "servicedesk-beat.service",
}
# Variables the deploy docs may mention that settings.py does not read (read by gunicorn,
# the Procfile platform, compose or Django's entry points instead).
NOT_SETTINGS = {"WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "GUNICORN_ACCESS_LOG", "PORT"}
NOT_SETTINGS |= {"SERVICEDESK_TAG"}
NOT_SETTINGS |= {"DJANGO_SETTINGS_MODULE"}

# env("X"), env.str("X", ...), env.db("X"), env.email_url("X") ... and plain os.environ reads.
ENV_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
OS_ENV_READ = re.compile(
    r"""os\.(?:getenv\(|environ\.get\(|environ\[)\s*["']([A-Z][A-Z0-9_]*)["']"""
)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def argv(command) -> list[str]:
    """A command given as a list (exec form) or a string (shell form) as an argument list."""
    if isinstance(command, list):
        return [str(part) for part in command]
    return shlex.split(command)


def celery_app_name(args: list[str]) -> str | None:
    """The value of -A / --app in a celery command line."""
    for i, arg in enumerate(args):
        if arg in ("-A", "--app") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--app="):
            return arg.split("=", 1)[1]
    return None


def assert_entry_point(kind: str, args: list[str]) -> None:
    """`args` starts the `kind` process (web, worker or beat) on the project's entry points."""
    program = Path(args[0]).name
    if kind == "web":
        assert program == "gunicorn", args
        assert WSGI_APP in args, args
    else:
        assert program == "celery", args
        assert celery_app_name(args) == CELERY_APP, args
        assert kind in args, args  # the celery subcommand: worker or beat


def runs_migrate(command: str) -> bool:
    return re.search(r"\bmanage\.py migrate\b", command) is not None


def settings_env_vars() -> set[str]:
    source = read(ROOT / "servicedesk" / "settings.py")
    return set(ENV_READ.findall(source)) | set(OS_ENV_READ.findall(source))


# --- The entry points themselves -------------------------------------------------------


def test_the_wsgi_entry_point_imports():
    module_name, attribute = WSGI_APP.split(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, attribute))


def test_the_celery_app_is_found_by_its_name():
    from servicedesk.celery import app

    assert isinstance(app, Celery)
    assert app.main == CELERY_APP
    # What `celery -A servicedesk` resolves to.
    assert find_app(CELERY_APP) is app


# --- docker-compose.yml ----------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(read(DEPLOY / "docker-compose.yml"))


def test_compose_has_every_service(compose):
    assert {"postgres", "redis", *APP_SERVICES} <= set(compose["services"])


def test_compose_builds_the_app_image_from_the_dockerfile(compose):
    for name in APP_SERVICES:
        build = compose["services"][name]["build"]
        dockerfile = (DEPLOY / build["context"] / build["dockerfile"]).resolve()
        assert dockerfile == DEPLOY / "Dockerfile", name
        assert (DEPLOY / build["context"]).resolve() == ROOT, name


@pytest.mark.parametrize("kind", LONG_RUNNING)
def test_compose_commands_start_the_entry_points(compose, kind):
    assert_entry_point(kind, argv(compose["services"][kind]["command"]))


def test_compose_migrate_runs_migrate(compose):
    assert runs_migrate(" ".join(argv(compose["services"]["migrate"]["command"])))


@pytest.mark.parametrize("kind", LONG_RUNNING)
def test_compose_processes_wait_for_migrate_and_healthy_backends(compose, kind):
    depends_on = compose["services"][kind]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"


def test_compose_backends_have_health_checks(compose):
    assert "pg_isready" in argv(compose["services"]["postgres"]["healthcheck"]["test"])
    assert "ping" in argv(compose["services"]["redis"]["healthcheck"]["test"])


def test_compose_app_environment(compose):
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["DATABASE_URL"] == (
            "postgres://servicedesk:servicedesk@postgres:5432/servicedesk"
        ), name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/1", name
        assert env["DEBUG"] == "0", name
        assert env["SECURE_SSL_REDIRECT"] == "0", name
        # Required: compose refuses to start without it, never a default key.
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), name
        assert "ALLOWED_HOSTS" in env, name


@pytest.mark.parametrize("kind", ["web", "worker"])
def test_compose_media_volume_is_mounted_at_media_root(compose, kind):
    service = compose["services"][kind]
    targets = [volume.split(":")[1] for volume in service["volumes"]]
    assert service["environment"]["MEDIA_ROOT"] in targets


# --- Procfile ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def procfile() -> dict[str, str]:
    processes = {}
    for line in read(DEPLOY / "Procfile").splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)
        if match:
            processes[match[1]] = match[2]
    return processes


def test_procfile_process_types(procfile):
    assert set(procfile) == {"release", *LONG_RUNNING}


@pytest.mark.parametrize("kind", LONG_RUNNING)
def test_procfile_starts_the_entry_points(procfile, kind):
    assert_entry_point(kind, shlex.split(procfile[kind]))


def test_procfile_release_runs_migrate(procfile):
    assert runs_migrate(procfile["release"])


# --- systemd units -------------------------------------------------------------------------


def unit_settings(unit: str) -> dict[str, list[str]]:
    """Key -> values of a unit file (keys may repeat; continuation lines joined)."""
    text = read(DEPLOY / "systemd" / unit).replace("\\\n", " ")
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


@pytest.mark.parametrize("kind", LONG_RUNNING)
def test_systemd_units_start_the_entry_points(kind):
    settings = unit_settings(UNITS[kind])
    (exec_start,) = settings["ExecStart"]
    args = shlex.split(exec_start)
    assert args[0].startswith("/srv/servicedesk/.venv/bin/")
    assert_entry_point(kind, args)
    assert settings["WorkingDirectory"] == ["/srv/servicedesk"]
    assert "/etc/servicedesk/servicedesk.env" in settings["EnvironmentFile"]
    assert settings["Restart"] == ["on-failure"]
    assert settings["User"][0] not in ("", "root", "0")


def test_systemd_environment_example_exists():
    assert (DEPLOY / "systemd" / "servicedesk.env.example").is_file()


# --- Dockerfile ----------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments skipped."""
    instructions, current = [], ""
    for line in read(DEPLOY / "Dockerfile").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        keyword, _, rest = (current + stripped).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    return instructions


def test_dockerfile_cmd_runs_gunicorn_on_the_wsgi_app():
    cmds = [rest for keyword, rest in dockerfile_instructions() if keyword == "CMD"]
    assert cmds, "no CMD"
    command = cmds[-1]
    args = json.loads(command) if command.startswith("[") else shlex.split(command)
    assert_entry_point("web", args)
    assert "0.0.0.0:8000" in args


def test_dockerfile_runs_unprivileged_and_checks_health():
    instructions = dockerfile_instructions()
    by_keyword: dict[str, list[str]] = {}
    for keyword, rest in instructions:
        by_keyword.setdefault(keyword, []).append(rest)
    assert by_keyword["FROM"][0].startswith("python:3.11-slim")
    assert by_keyword["USER"][-1].split(":")[0] not in ("root", "0")
    assert "8000" in by_keyword["EXPOSE"][-1].split()
    assert "/healthz" in by_keyword["HEALTHCHECK"][-1]
    runs = " ".join(by_keyword["RUN"])
    assert "compilemessages" in runs
    assert "collectstatic --noinput" in runs
    # The build-time dummy key is given to those commands only, never baked into the image.
    assert not any("SECRET_KEY" in rest for rest in by_keyword.get("ENV", []))
    assert not any("SECRET_KEY" in rest for rest in by_keyword.get("ARG", []))


def test_dockerignore_keeps_local_state_and_secrets_out():
    patterns = {
        line.strip()
        for line in read(DEPLOY / "Dockerfile.dockerignore").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "var", ".git", "staticfiles", "**/.env"} <= patterns
    assert any("__pycache__" in pattern for pattern in patterns)


# --- nginx ---------------------------------------------------------------------------------


def test_nginx_accepts_an_attachment_of_the_largest_allowed_size():
    from django.conf import settings

    conf = read(DEPLOY / "nginx" / "servicedesk.conf")
    (size,) = re.findall(r"client_max_body_size\s+(\d+)m;", conf)
    # Strictly above: a multipart request carries more than the file itself.
    assert int(size) * 1024 * 1024 > settings.ATTACHMENT_MAX_BYTES


def test_nginx_proxies_to_gunicorn_and_keeps_media_private():
    conf = read(DEPLOY / "nginx" / "servicedesk.conf")
    assert "server 127.0.0.1:8000;" in conf
    assert re.search(r"proxy_set_header\s+X-Forwarded-Proto\s+\$scheme;", conf)
    assert re.search(r"location = /healthz \{[^}]*proxy_pass", conf)
    media = re.search(r"location /media/ \{([^}]*)\}", conf)
    assert media and "return 404;" in media[1] and "alias" not in media[1]


# --- Documented environment variables ------------------------------------------------------


@pytest.fixture(scope="module")
def env_vars() -> set[str]:
    names = settings_env_vars()
    # The regex must keep finding them: a handful that settings.py has always read.
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"} <= names
    return names


def env_example_names() -> set[str]:
    # KEY=value, or #KEY=value for one shown commented out.
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", read(ROOT / ".env.example"), re.M))


def readme_table_names() -> set[str]:
    # The first cell of a table row: | `NAME` | default | meaning |
    return set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", read(DEPLOY / "README.md"), re.M))


def test_every_settings_variable_is_in_env_example(env_vars):
    missing = sorted(env_vars - env_example_names())
    assert not missing, f".env.example does not list {missing}"


def test_every_settings_variable_is_in_the_deploy_readme(env_vars):
    missing = sorted(env_vars - readme_table_names())
    assert not missing, f"deploy/README.md's table does not list {missing}"


@pytest.mark.parametrize("names", [env_example_names, readme_table_names])
def test_docs_list_no_variable_settings_no_longer_reads(env_vars, names):
    stale = sorted(names() - env_vars - NOT_SETTINGS)
    assert not stale, f"documented but not read by settings.py: {stale}"
