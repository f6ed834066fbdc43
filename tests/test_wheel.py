"""The built wheels run `mobility demo` on their own.

Builds both distributions (`mobility-pow-rs` with maturin, `mobility` with pip and hatchling),
installs them into a fresh virtualenv (their dependencies from the package index, without the
`report` extra) and runs a short demo there from a folder outside the checkout, with no
`PYTHONPATH`: nothing can come from the repository. The demo upgrading a fresh database and
loading its default scenario proves the migrations and scenario files are inside the packages;
asking for `--report` without matplotlib shows the extra is optional.

Selected with `-m wheel`; part of the default run (`make test`). It takes one Rust build (most of
it cached by the `cargo` steps before it), one install and a demo of 12 simulated minutes: about
five minutes on two shared cores, most of it the install from the index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.wheel, pytest.mark.slow, pytest.mark.timeout(1800)]

WHERE = """
import importlib.util, json, mobility, mobility.migrate, pow_rs, sims.city.scenario
print(json.dumps({
    "mobility": mobility.__file__,
    "pow_rs": pow_rs.__file__,
    "sims": sims.city.scenario.__file__,
    "migrations": str(mobility.migrate.MIGRATIONS),
    "scenario": str(sims.city.scenario.DEFAULT_SCENARIO),
    "matplotlib": importlib.util.find_spec("matplotlib") is not None,
}))
"""


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; its output, or a failure that shows it."""
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{output[-6000:]}"
    return output


def outside_env() -> dict[str, str]:
    """The environment without anything that points into the checkout or configures the engine."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("MOBILITY_")}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Both wheels, built from the checkout."""
    dist = tmp_path_factory.mktemp("dist")
    maturin = Path(sys.executable).with_name("maturin")
    run(maturin, "build", "--release", "--interpreter", sys.executable, "--out", dist, cwd=ROOT / "pow_rs")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", dist, ROOT, cwd=ROOT)
    built = sorted(dist.glob("*.whl"))
    assert [w.name.split("-")[0] for w in built] == ["mobility", "mobility_pow_rs"], built
    return built


def test_the_wheels_hold_the_migrations_and_scenarios_and_not_the_rust_sources(wheels: list[Path]) -> None:
    mobility, pow_rs = (set(zipfile.ZipFile(w).namelist()) for w in wheels)
    assert "mobility/migrations/env.py" in mobility
    assert "mobility/migrations/script.py.mako" in mobility
    assert any(n.startswith("mobility/migrations/versions/0001_") for n in mobility)
    assert "sims/scenarios/default_city.toml" in mobility
    assert not any(n.startswith(("pow_rs/", "tests/", "migrations/")) for n in mobility)
    assert {"pow_rs/__init__.py", "pow_rs/_native.pyi", "pow_rs/py.typed"} <= pow_rs
    assert any(n.startswith("pow_rs/_native.") and n.endswith(".so") for n in pow_rs)
    assert not any(n.endswith(".rs") or n.endswith("Cargo.toml") for n in pow_rs)


def test_a_fresh_virtualenv_runs_the_demo_from_elsewhere(
    wheels: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    venv = tmp_path_factory.mktemp("venv")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    env = outside_env()
    run(sys.executable, "-m", "venv", venv, cwd=elsewhere, env=env)
    python = venv / "bin" / "python"
    run(
        python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--prefer-binary", *wheels,
        cwd=elsewhere, env=env,
    )  # fmt: skip

    where = json.loads(run(python, "-c", WHERE, cwd=elsewhere, env=env))
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(run(python, "-c", purelib, cwd=elsewhere, env=env).strip()).resolve()
    for name in ("mobility", "pow_rs", "sims", "migrations", "scenario"):
        assert Path(where[name]).resolve().is_relative_to(site), where
    assert Path(where["migrations"]).is_dir(), where
    assert Path(where["scenario"]).is_file(), where
    assert where["matplotlib"] is False, "the report extra was not asked for"

    report = elsewhere / "report"
    output = run(
        venv / "bin" / "mobility", "demo", "--seed", "3", "--hours", "0.2", "--chargers", "3",
        "--speed", "600", "--report", report,
        cwd=elsewhere, env=env,
    )  # fmt: skip
    assert "reconciliation (metered = billed = paid = settled, or the shortfall): balanced" in output, output
    assert "pip install 'mobility[report]'" in output, output
    assert (report / "record.json").is_file()
    assert not (report / "report.html").exists()
