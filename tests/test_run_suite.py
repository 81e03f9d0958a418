"""tests/run-suite.sh (what `make test` runs): under CI a PostgreSQL/Redis that cannot be
started fails the run instead of skipping it, and two checkouts on one machine get their own
test database, Redis databases, queue and cache prefix."""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A stand-in pytest that shows the environment each run gets.
FAKE_PYTEST = """#!/bin/sh
echo "DATABASE_URL=${DATABASE_URL:-none}"
echo "CELERY_BROKER_URL=${CELERY_BROKER_URL:-none}"
echo "REDIS_URL=${REDIS_URL:-none}"
echo "QUEUE=${CELERY_TASK_DEFAULT_QUEUE:-none}"
echo "PREFIX=${CACHE_KEY_PREFIX:-none}"
"""


def checkout(tmp_path, name):
    """A copy of the script in a checkout of its own, with the stand-in pytest."""
    root = tmp_path / name
    (root / "tests").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "run-suite.sh", root / "tests" / "run-suite.sh")
    fake = root / "fake-pytest"
    fake.write_text(FAKE_PYTEST)
    fake.chmod(0o755)
    (root / "services-up.sh").write_text("exit 0\n")
    (root / "services-down.sh").write_text("echo 'PostgreSQL could not be started'; exit 1\n")
    return root


def run(root, *, ensure, ci):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEST_", "DATABASE_URL", "REDIS_URL", "CELERY_", "CI"))
    }
    env.update(RUN_SUITE_PYTEST=str(root / "fake-pytest"), RUN_SUITE_ENSURE=ensure)
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        ["bash", str(root / "tests" / "run-suite.sh")],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


def second_run(output):
    block = output.split("run 2/2", 1)[1]
    return dict(line.split("=", 1) for line in block.splitlines() if "=" in line)


def test_ci_fails_when_postgresql_or_redis_are_unavailable(tmp_path):
    root = checkout(tmp_path, "a")
    unavailable = str(root / "services-down.sh")
    result = run(root, ensure=unavailable, ci=True)
    assert result.returncode == 1
    assert "FAILED run 2/2" in result.stdout and "make test: FAILED" in result.stdout
    # outside CI the same situation is a loud skip, not a failure
    result = run(root, ensure=unavailable, ci=False)
    assert result.returncode == 0
    assert "SKIPPED run 2/2" in result.stdout


def test_two_checkouts_get_their_own_database_redis_queue_and_cache(tmp_path):
    a_root, b_root = checkout(tmp_path, "a"), checkout(tmp_path, "b")
    first = run(a_root, ensure=str(a_root / "services-up.sh"), ci=True)
    second = run(b_root, ensure=str(b_root / "services-up.sh"), ci=True)
    assert first.returncode == 0 and second.returncode == 0, first.stdout + first.stderr
    a, b = second_run(first.stdout), second_run(second.stdout)
    assert a["DATABASE_URL"].startswith("postgres://")
    for name in ("DATABASE_URL", "QUEUE", "PREFIX"):
        assert a[name] != b[name], name
    # the broker and the cache never share a Redis database within a run
    assert a["CELERY_BROKER_URL"] != a["REDIS_URL"]
    # the SQLite run has no PostgreSQL or Redis at all
    first_run = first.stdout.split("run 2/2", 1)[0]
    assert "DATABASE_URL=none" in first_run and "REDIS_URL=none" in first_run
