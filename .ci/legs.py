"""Run the test suite in each configuration of .ci/configurations.toml, one line per configuration.

Usage: python .ci/legs.py --where ci|matrix [--page docs/configurations.md] [LEG ...]

Each leg gets a virtual environment of its own under .legs/ (reused while its requirements stay the
same), installs the project editable with the leg's extras and pins, runs pytest without the slow
tests, and prints its versions and counts. The exit status is non-zero when any leg fails or
cannot be set up. With --page, the results are written as the tested-configurations page.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LEGS_DIRECTORY = ROOT / ".legs"
REPORTED = (
    "torch",
    "numpy",
    "jaxtyping",
    "beartype",
    "typing_extensions",
    "hypothesis",
    "ml_dtypes",
)
LEG_TIMEOUT_S = 45 * 60
INSTALL_TIMEOUT_S = 30 * 60
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")


@dataclass
class Leg:
    name: str
    about: str
    where: str
    python: str
    extras: list[str]
    install: list[str]
    oldest: bool = False
    versions: dict[str, str] = field(default_factory=dict[str, str])
    counts: dict[str, int] = field(default_factory=dict[str, int])
    problem: str = ""

    @property
    def green(self) -> bool:
        failures = sum(self.counts.get(kind, 0) for kind in ("failed", "error", "errors"))
        return not self.problem and failures == 0 and self.counts.get("passed", 0) > 0


def load_legs() -> list[Leg]:
    table = tomllib.loads((ROOT / ".ci" / "configurations.toml").read_text(encoding="utf-8"))
    return [Leg(**entry) for entry in table["leg"]]


def lower_bound_pins(extras: list[str]) -> dict[str, str]:
    """``name==lower bound`` for every dependency pyproject.toml declares (and the extras')."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in extras:
        declared += project["optional-dependencies"][extra]
    pins: dict[str, str] = {}
    for text in declared:
        requirement = Requirement(text)
        floors = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        if not floors:
            raise SystemExit(f"{text!r} in pyproject.toml has no lower bound to test")
        pins[canonicalize_name(requirement.name)] = f"{requirement.name}=={floors[0]}"
    return pins


def requirements_of(leg: Leg) -> list[str]:
    pins = lower_bound_pins(leg.extras) if leg.oldest else {}
    for text in leg.install:
        pins[canonicalize_name(Requirement(text).name)] = text
    return sorted(pins.values())


def find_python(version: str) -> str | None:
    """An interpreter of ``version``: on PATH, or installed by pyenv."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += [str(path / "bin" / "python") for path in sorted(pyenv_root.glob(f"{version}.*"))]
    for candidate in candidates:
        if candidate is None:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def run(command: list[str], timeout: int) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    # A machine-wide pip constraint may cap torch below the release a leg asks for.
    environment["PIP_CONSTRAINT"] = os.devnull
    environment.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        command,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def prepare(leg: Leg) -> Path | None:
    """The leg's interpreter in its own virtual environment, set up; None when that failed."""
    python = find_python(leg.python)
    if python is None:
        leg.problem = f"no Python {leg.python} on this machine"
        return None
    requirements = requirements_of(leg)
    target = f".[{','.join(leg.extras)}]" if leg.extras else "."
    # The checkout is part of the stamp: an editable install points at the checkout it was made in.
    identity = [str(ROOT), python, target, requirements]
    stamp = hashlib.sha256(json.dumps(identity).encode()).hexdigest()
    directory = LEGS_DIRECTORY / leg.name
    interpreter = directory / "bin" / "python"
    stamp_file = directory / "requirements.sha256"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return interpreter
    shutil.rmtree(directory, ignore_errors=True)
    steps = [
        [python, "-m", "venv", str(directory)],
        [str(interpreter), "-m", "pip", "install", "-q", "--upgrade", "pip"],
        [str(interpreter), "-m", "pip", "install", "-q", "-e", target, *requirements],
    ]
    for step in steps:
        completed = run(step, INSTALL_TIMEOUT_S)
        if completed.returncode != 0:
            errors = [line for line in completed.stderr.splitlines() if "WARNING" not in line]
            leg.problem = "setup failed: " + " | ".join(errors[-3:])
            return None
    stamp_file.write_text(stamp)
    return interpreter


def versions_in(interpreter: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, platform\n"
        "def v(name):\n"
        "    try: return m.version(name)\n"
        "    except m.PackageNotFoundError: return '-'\n"
        f"names = {list(REPORTED)!r}\n"
        "print(json.dumps({'python': platform.python_version(), **{n: v(n) for n in names}}))"
    )
    completed = run([str(interpreter), "-c", code], 120)
    return dict(json.loads(completed.stdout))


def test(leg: Leg, interpreter: Path) -> None:
    leg.versions = versions_in(interpreter)
    command = [str(interpreter), "-m", "pytest", "-m", "not slow", "-q", "-p", "no:cacheprovider"]
    log = LEGS_DIRECTORY / f"{leg.name}.log"
    try:
        completed = run(command, LEG_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        leg.problem = f"pytest ran past {LEG_TIMEOUT_S // 60} minutes"
        return
    log.write_text(completed.stdout + completed.stderr, encoding="utf-8")
    summary = completed.stdout.strip().splitlines()[-1:] or [""]
    leg.counts = {kind: int(number) for number, kind in COUNT.findall(summary[0])}
    if completed.returncode not in (0, 1):
        leg.problem = f"pytest exited {completed.returncode}; see {log.relative_to(ROOT)}"
    elif not leg.green:
        failed = [line for line in completed.stdout.splitlines() if line.startswith("FAILED")]
        for line in failed[:20]:
            print(f"    {line}")


def readme_leg(log: Path) -> Leg:
    """The README's configuration, which .ci/check has already tested in .venv."""
    leg = Leg(
        "readme",
        "the README's install, every test including the slow ones",
        "readme",
        "3.11",
        ["fuzz", "ml-dtypes"],
        [],
    )
    leg.versions = versions_in(ROOT / ".venv" / "bin" / "python")
    lines = log.read_text(encoding="utf-8").strip().splitlines() if log.exists() else []
    leg.counts = {kind: int(number) for number, kind in COUNT.findall(lines[-1] if lines else "")}
    if not lines:
        leg.problem = f"no pytest output in {log}"
    return leg


def describe(leg: Leg) -> str:
    shown = ("python", *REPORTED)
    versions = "  ".join(f"{name} {leg.versions.get(name, '?')}" for name in shown)
    counts = (
        f"{leg.counts.get('passed', 0)} passed, "
        f"{leg.counts.get('failed', 0) + leg.counts.get('errors', 0) + leg.counts.get('error', 0)} "
        f"failed, {leg.counts.get('skipped', 0)} skipped"
    )
    verdict = "ok  " if leg.green else "FAIL"
    detail = f" ({leg.problem})" if leg.problem else ""
    return f"{verdict} {leg.name:<24} {versions}  =>  {counts}{detail}"


def write_page(legs: list[Leg], page: Path) -> None:
    today = datetime.date.today().isoformat()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    bounds = ", ".join(f"`{text}`" for text in project["dependencies"])
    rows = [
        "| configuration | Python | torch | NumPy | jaxtyping | beartype | typing_extensions "
        "| Hypothesis | ml_dtypes | passed | failed | skipped | result |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for leg in legs:
        v = leg.versions
        failed = leg.counts.get("failed", 0) + leg.counts.get("errors", 0)
        rows.append(
            f"| {leg.name} | {v.get('python', '?')} | {v.get('torch', '?')} | {v.get('numpy', '?')} "
            f"| {v.get('jaxtyping', '?')} | {v.get('beartype', '?')} "
            f"| {v.get('typing_extensions', '?')} | {v.get('hypothesis', '?')} "
            f"| {v.get('ml_dtypes', '?')} | {leg.counts.get('passed', 0)} | {failed} "
            f"| {leg.counts.get('skipped', 0)} | {'green' if leg.green else leg.problem or 'FAILED'} |"
        )
    about = "\n".join(f"- **{leg.name}**: {leg.about}." for leg in legs)
    text = PAGE.format(
        date=today,
        python=project["requires-python"],
        bounds=bounds,
        table="\n".join(rows),
        about=about,
    )
    page.write_text(text, encoding="utf-8")


PAGE = """# Tested configurations

Generated by `.ci/matrix` on {date}; the README's configuration (Python 3.11, torch 2.13.0 CPU,
the newest NumPy and every extra) runs on every CI run, with the legs marked `ci` in
`.ci/configurations.toml`.

The package declares Python `{python}` and {bounds}. Each lower bound is the release the `oldest`
legs install: a bound counts as tested where those legs are green below. The legs other than the
README's leave out the tests marked slow.

{table}

{about}

Free-threaded CPython (3.13t, 3.14t) is not in the matrix yet: PyPI serves NumPy wheels for it
(`cp313t`), but no free-threaded interpreter can be installed on the machines the matrix runs on,
which reach only package registries (PyPI, Debian's), and those carry none.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--where", choices=("ci", "matrix", "all"), default="ci")
    parser.add_argument("--page", type=Path, help="write the tested-configurations page here")
    parser.add_argument(
        "--readme-log", type=Path, help="the README configuration's pytest output, to report too"
    )
    parser.add_argument("names", nargs="*", help="run only these legs")
    arguments = parser.parse_args()
    legs = [
        leg
        for leg in load_legs()
        if (arguments.where in ("all", leg.where))
        and (not arguments.names or leg.name in arguments.names)
    ]
    LEGS_DIRECTORY.mkdir(exist_ok=True)
    if arguments.readme_log is not None:
        legs.insert(0, readme_leg(arguments.readme_log))
    for leg in legs:
        if leg.where == "readme":
            continue
        print(f"== {leg.name}: {leg.about}", flush=True)
        interpreter = prepare(leg)
        if interpreter is not None:
            test(leg, interpreter)
        print(describe(leg), flush=True)
    print()
    for leg in legs:
        print(describe(leg))
    if arguments.page is not None:
        write_page(legs, arguments.page)
    return 0 if all(leg.green for leg in legs) else 1


if __name__ == "__main__":
    sys.exit(main())
