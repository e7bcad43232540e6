"""The subject map (subjects.yml), the PII salt and the salted hash of an identifier.

The hash is dbt's (dbt/macros/pii/mask_pii.sql): `sha2(concat(salt, lower(trim(email))), 256)`, so
erasure finds in silver the rows dbt masked. The salt comes from LAKEHOUSE_PII_SALT; only the local
target (DBT_TARGET unset or `local`) has the development default, as in dbt/profiles.yml.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from lakehouse.core.errors import ConfigError

SUBJECTS_FILE = Path(__file__).with_name("subjects.yml")
LOCAL_DEV_SALT = "lakehouse-local-dev-salt"  # dbt/profiles.yml, target `local` only
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CUSTOMER_KEY = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class SubjectMap:
    bronze: dict[str, list[str]]  # "source.stream" -> email column paths
    records: dict[str, str]  # "source.stream" (silver source_system) -> id column
    databases: list[str]
    email_columns_containing: list[str]
    identity_map: str
    source_records: str

    @classmethod
    def load(cls, path: Path = SUBJECTS_FILE) -> SubjectMap:
        data = yaml.safe_load(path.read_text()) or {}
        layers = data.get("layers") or {}
        subject_map = cls(
            bronze={k: list(v) for k, v in (data.get("bronze") or {}).items()},
            records=dict(data.get("records") or {}),
            databases=list(layers.get("databases") or []),
            email_columns_containing=list(layers.get("email_columns_containing") or []),
            identity_map=layers.get("identity_map", ""),
            source_records=layers.get("source_records", ""),
        )
        subject_map.validate(path)
        return subject_map

    def validate(self, path: Path) -> None:
        names = [*self.bronze, *self.records, self.identity_map, self.source_records]
        columns = [part for paths in self.bronze.values() for p in paths for part in p.split(".")]
        columns += [*self.records.values(), *self.databases]
        bad = [n for n in names if n.count(".") != 1 or not all(_IDENTIFIER.match(p) for p in n.split("."))]
        bad += [c for c in columns if not _IDENTIFIER.match(c)]
        if bad:
            raise ConfigError(
                f"{path}: invalid table or column names {bad}", "use `source.stream` names and plain column names"
            )


def pii_salt() -> str:
    """The salt dbt hashes with; the development default only for the local target."""
    salt = os.environ.get("LAKEHOUSE_PII_SALT", "")
    target = os.environ.get("DBT_TARGET", "local")
    if salt:
        return salt
    if target == "local":
        return LOCAL_DEV_SALT
    raise ConfigError(
        f"LAKEHOUSE_PII_SALT is not set: the '{target}' target has no default PII salt",
        "export LAKEHOUSE_PII_SALT with the value dbt builds with (on AWS: from Secrets Manager)",
    )


def normalize_email(value: str) -> str:
    """Spark's `lower(trim(x))`: trim removes spaces only."""
    return value.strip(" ").lower()


def salted_hash(normalized: str, salt: str) -> str:
    return hashlib.sha256((salt + normalized).encode()).hexdigest()


@dataclass(frozen=True)
class Subject:
    """What the requester gave: an email, a source record (`postgres.users:42`) or a silver customer_key."""

    kind: str  # "email" | "record" | "customer_key"
    value: str  # normalised

    @classmethod
    def parse(cls, raw: str, records: dict[str, str]) -> Subject:
        text = raw.strip()
        if "@" in text:
            return cls("email", normalize_email(text))
        if _CUSTOMER_KEY.match(text.lower()):
            return cls("customer_key", text.lower())
        system, _, record_id = text.rpartition(":")
        if system in records and record_id:
            return cls("record", f"{system}:{record_id}")
        raise ConfigError(
            "the subject is neither an email, a customer_key nor a source record",
            f"pass an email, a 32-hex customer_key, or `<system>:<id>` with system one of {sorted(records)}",
        )

    def hash(self, salt: str) -> str:
        """How the audit names the subject: never the raw identifier."""
        return salted_hash(self.value, salt)
