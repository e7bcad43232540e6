"""Airbyte connectors from PyPI, each in its own virtual environment.

`~/.cache/lakehouse/airbyte/venvs/<connector>-<version>/` holds one connector (`airbyte-source-faker`
7.2.1 lives in `source-faker-7.2.1`), created with the interpreter the platform runs on (the
connectors need Python 3.10-3.12) and installed with pip from PyPI at the pinned version. A venv is
usable once its `.installed` marker exists, so an install cut short is redone, never half-used.

    python -m loaders.airbyte.venv install airbyte-source-faker==7.2.1
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lakehouse.core.errors import ConfigError, SourceError

_PIN = re.compile(r"^(airbyte-source-[a-z0-9-]+)==([0-9][0-9A-Za-z.\-+]*)$")
INSTALL_SCRIPT = ".ci/install.d/airbyte-connectors.sh"


def venvs_folder() -> Path:
    """Where connector venvs live (`LAKEHOUSE_AIRBYTE_VENVS` overrides, for tests of the installer)."""
    override = os.environ.get("LAKEHOUSE_AIRBYTE_VENVS")
    return Path(override) if override else Path.home() / ".cache" / "lakehouse" / "airbyte" / "venvs"


@dataclass(frozen=True)
class Connector:
    """A pinned PyPI connector: `airbyte-source-faker==7.2.1`."""

    package: str  # airbyte-source-faker
    version: str

    @classmethod
    def parse(cls, pin: str) -> Connector:
        match = _PIN.match(pin.strip())
        if match is None:
            raise ConfigError(
                f"connector {pin!r} is not a pinned Airbyte source package",
                "write it as airbyte-source-<name>==<version> (check versions with `pip index versions`)",
            )
        return cls(match.group(1), match.group(2))

    @property
    def name(self) -> str:
        """`source-faker`: the connector's name, also its console script."""
        return self.package.removeprefix("airbyte-")

    @property
    def pin(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def folder(self) -> Path:
        return venvs_folder() / f"{self.name}-{self.version}"

    @property
    def executable(self) -> Path:
        return self.folder / "bin" / self.name

    def is_installed(self) -> bool:
        return (self.folder / ".installed").exists() and self.executable.exists()

    def require(self) -> Path:
        """The connector's entry point; a clear error naming the install command when it is missing."""
        if not self.is_installed():
            raise SourceError(
                f"Airbyte connector {self.pin} is not installed (no venv at {self.folder})",
                f"run `lakehouse airbyte install {self.pin}` (CI: {INSTALL_SCRIPT})",
            )
        return self.executable

    def install(self, *, python: str | None = None) -> Path:
        """Create the venv and pip-install the pinned package; idempotent."""
        if self.is_installed():
            return self.executable
        if self.folder.exists():
            shutil.rmtree(self.folder)  # a half-made venv from an interrupted install
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        interpreter = python or getattr(sys, "_base_executable", sys.executable)
        _run([interpreter, "-m", "venv", str(self.folder)], f"create a venv for {self.pin}")
        pip = [str(self.folder / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run([*pip, self.pin], f"pip install {self.pin}")
        if not self.executable.exists():
            raise SourceError(
                f"{self.pin} installed, but it has no `{self.name}` entry point",
                "check that the package is an Airbyte Python source connector",
            )
        (self.folder / ".installed").write_text(self.pin + "\n")
        return self.executable


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise SourceError(f"could not {what}: {' | '.join(tail)}", "check network access to PyPI and the pin")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "install":
        print("usage: python -m loaders.airbyte.venv install airbyte-source-<name>==<version>", file=sys.stderr)
        return 2
    connector = Connector.parse(argv[1])
    print(f"{connector.pin}: {connector.install()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
