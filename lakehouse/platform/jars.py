"""The JVM jars Spark needs beyond the pip `pyspark`: Delta Lake, S3 (`hadoop-aws`) and `hive-llap-common`.

Versions are derived, not typed twice: Delta from the installed `delta-spark` package, `hadoop-aws`
from the Hadoop client jars that ship inside `pyspark`, `hive-llap-common` from its Hive jars. They are
resolved from Maven Central with Maven (transitively, so `hadoop-aws` brings its AWS SDK bundle) into a
cache outside git, `~/.cache/lakehouse/jars/spark-<version>/` (override with `LAKEHOUSE_JARS_DIR`).

`hive-llap-common` alone (none of its dependencies, which Spark ships): pyspark 4.0 leaves it out, yet
the Thrift server's Hive function registry loads a UDTF that needs one of its classes; when a session's
close is the first to touch that registry, the close fails with `NoClassDefFoundError: LlapSigner$Signable`
and every later Hive call on the server with it (SPARK-51041 added it back to Spark's own tests).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from lakehouse.core.errors import PlatformError

SCALA_BINARY = "2.13"
COMPLETE_MARKER = ".complete"
# Already on Spark's classpath; copying them again would shadow Spark's own versions.
PROVIDED_GROUPS = "org.scala-lang,org.antlr"
# Artifacts taken without their dependencies (Spark ships those, in the versions it was built with).
JAR_ONLY = {"hive-llap-common"}
NO_DEPENDENCIES = "<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


@dataclass(frozen=True)
class JarSet:
    spark_version: str
    delta_version: str
    hadoop_version: str
    hive_version: str

    @classmethod
    def for_installed(cls) -> JarSet:
        hadoop, hive = bundled_version("hadoop-client-api"), bundled_version("hive-common")
        return cls(version("pyspark"), version("delta-spark"), hadoop, hive)

    @property
    def coordinates(self) -> list[tuple[str, str, str]]:
        return [
            ("io.delta", f"delta-spark_{SCALA_BINARY}", self.delta_version),
            ("org.apache.hadoop", "hadoop-aws", self.hadoop_version),
            ("org.apache.hive", "hive-llap-common", self.hive_version),
        ]

    @property
    def folder(self) -> Path:
        base = os.environ.get("LAKEHOUSE_JARS_DIR") or Path.home() / ".cache" / "lakehouse" / "jars"
        return Path(base) / f"spark-{self.spark_version}-delta-{self.delta_version}"

    def jars(self) -> list[Path]:
        """The cached jars; raises a PlatformError naming the fix when they are missing."""
        if not self._complete():
            raise PlatformError(
                f"the Delta, hadoop-aws and hive-llap-common jars for Spark {self.spark_version}"
                f" are not in {self.folder}",
                "run `lakehouse spark setup` (it downloads them from Maven Central once)",
            )
        return sorted(self.folder.glob("*.jar"))

    def resolve(self) -> list[Path]:
        """Download the jars with Maven if they are not cached yet (or were cached for fewer coordinates)."""
        if self._complete():
            return self.jars()
        mvn = shutil.which("mvn")
        if mvn is None:
            raise PlatformError(
                "Maven (`mvn`) is not installed, and it is needed once to fetch the Delta and S3 jars",
                "install it (`apt-get install maven`) and run `lakehouse spark setup` again",
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as work:
            pom = Path(work) / "pom.xml"
            pom.write_text(self._pom())
            command = [
                mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
                f"-DoutputDirectory={self.folder}", f"-DexcludeGroupIds={PROVIDED_GROUPS}",
                "-DincludeScope=runtime",
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PlatformError(
                f"Maven could not fetch {', '.join(':'.join(c) for c in self.coordinates)}:\n"
                + (done.stdout + done.stderr)[-2000:],
                "check that Maven Central is reachable from this machine, then run `lakehouse spark setup` again",
            )
        names = [p.name for p in sorted(self.folder.glob("*.jar"))]
        (self.folder / COMPLETE_MARKER).write_text("\n".join([self._signature(), *names]))
        return self.jars()

    def _signature(self) -> str:
        return "coordinates: " + " ".join(":".join(c) for c in self.coordinates)

    def _complete(self) -> bool:
        """The cache holds every coordinate's jars (its marker names them: a cache made for fewer is redone)."""
        marker = self.folder / COMPLETE_MARKER
        return marker.exists() and marker.read_text().split("\n", 1)[0] == self._signature()

    def _pom(self) -> str:
        dependencies = "".join(
            f"<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version>"
            + (NO_DEPENDENCIES if a in JAR_ONLY else "")
            + "</dependency>"
            for g, a, v in self.coordinates
        )
        return (
            '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
            "<groupId>lakehouse</groupId><artifactId>spark-jars</artifactId><version>1</version>"
            f"<dependencies>{dependencies}</dependencies></project>"
        )


def bundled_version(artifact: str) -> str:
    """The version of a jar pyspark ships (`hadoop-client-api`, `hive-common`), read off its file name."""
    for jar in (spark_home() / "jars").glob(f"{artifact}-*.jar"):
        match = re.fullmatch(rf"{re.escape(artifact)}-(\d[^-]*)\.jar", jar.name)
        if match:
            return match.group(1)
    raise PlatformError(
        f"no {artifact} jar in {spark_home() / 'jars'}; the pyspark install looks broken",
        "reinstall the project's Python packages (`make install`)",
    )
