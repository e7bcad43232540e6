"""Source file validation: errors name the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lakehouse.core.errors import ConfigError
from loaders.core.config import load_source_config
from loaders.registry import build_source


def write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "crm.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def stream(**keys: object) -> dict:
    return {"name": "accounts", **keys}


def source(*streams: dict, **keys: object) -> dict:
    return {"source": "crm", "type": "files", "options": {"path": "data"}, "streams": list(streams), **keys}


def test_unknown_source_type_names_the_key_and_the_known_types(tmp_path: Path) -> None:
    config = load_source_config(write(tmp_path, source(stream(), type="oracle_xyz")))
    with pytest.raises(ConfigError) as caught:
        build_source(config)
    assert "crm.yml" in caught.value.cause and "`type`" in caught.value.cause and "oracle_xyz" in caught.value.cause
    assert "files" in caught.value.fix


def test_missing_secret_names_the_reference_and_how_to_set_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_TOKEN_UNSET", raising=False)
    config = load_source_config(write(tmp_path, source(stream(), options={"path": "d", "token": "${CRM_TOKEN_UNSET}"})))
    with pytest.raises(ConfigError) as caught:
        build_source(config)
    assert "options.token" in caught.value.cause and "${CRM_TOKEN_UNSET}" in caught.value.cause
    assert "export CRM_TOKEN_UNSET=" in caught.value.fix


def test_invalid_schema_policy_names_the_stream_key_and_the_choices(tmp_path: Path) -> None:
    path = write(tmp_path, source(stream(schema_policy="loose")))
    with pytest.raises(ConfigError) as caught:
        load_source_config(path)
    assert "streams[0].schema_policy (stream 'accounts')" in caught.value.cause
    assert "'evolve', 'freeze' or 'rescue'" in caught.value.cause
    assert str(path) in caught.value.fix


def test_invalid_mode_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_source_config(write(tmp_path, source(stream(mode="upsert"))))
    assert "streams[0].mode" in caught.value.cause
    assert "'merge'" in caught.value.cause and "'append'" in caught.value.cause


def test_merge_without_a_primary_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_source_config(write(tmp_path, source(stream(mode="merge"))))
    assert "primary_key" in caught.value.cause and "mode: append" in caught.value.cause


def test_the_new_stream_keys_are_read(tmp_path: Path) -> None:
    config = load_source_config(
        write(
            tmp_path,
            source(
                stream(
                    mode="cdc",
                    primary_key=["id"],
                    schema_policy="rescue",
                    partition_by=["_loaded_date"],
                    soft_delete_field="is_deleted",
                    batch_rows=10,
                )
            ),
        )
    )
    accounts = config.stream("accounts")
    assert (accounts.mode, accounts.schema_policy, accounts.partition_by) == ("cdc", "rescue", ["_loaded_date"])
    assert accounts.soft_delete_field == "is_deleted" and accounts.extra == {"batch_rows": 10}
