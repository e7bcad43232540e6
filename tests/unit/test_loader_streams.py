"""The stream families' pure parts: envelope parsing, Kafka security settings, Kinesis reshard order."""

from __future__ import annotations

from loaders.core.messages import parse_envelopes, parse_json_objects
from loaders.kafka import KafkaOptions, consumer_config, headers_column
from loaders.kinesis import FINISHED, readable_shards


def test_a_line_that_does_not_parse_is_rejected_alone_with_its_origin_and_raw_payload() -> None:
    heads = [b'{"offset":%d,"value":' % n for n in range(5)]
    payloads = [b'{"n":0}', b'{"n":1}', b'{"n": oops', b'{"n":3}', b'{"n":4}']
    lines = [head + payload + b"}" for head, payload in zip(heads, payloads, strict=True)]

    table, rejects = parse_envelopes(lines, [f"t/0/{n}" for n in range(5)], [len(h) for h in heads])

    assert table.column("offset").to_pylist() == [0, 1, 3, 4]
    [bad] = rejects
    assert bad.reason.startswith("t/0/2: malformed JSON payload")
    assert (bad.raw_payload, bad.origin) == ('{"n": oops', "t/0/2")


def test_kafka_headers_keep_the_order_the_messages_carry_them_as_the_files_json_does() -> None:
    headers = [[("event_type", b"order.created"), ("content-type", b"application/json")], None, [("trace", None)]]

    column = headers_column(headers)

    assert [field.name for field in column.type] == ["event_type", "content-type", "trace"]  # not sorted
    assert column.to_pylist()[0] == {"event_type": "order.created", "content-type": "application/json", "trace": None}
    assert column.to_pylist()[1] is None


def test_sasl_ssl_scram_settings_reach_the_consumer_and_extra_properties_pass_through() -> None:
    options = KafkaOptions(
        bootstrap_servers="b-1.msk:9096",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="loader",
        sasl_password="s3cret",
        ssl_ca_location="/etc/ssl/ca.pem",
        consumer={"fetch.min.bytes": 1024, "client.rack": "use1-az1"},
    )

    config = consumer_config(options, "lakehouse.events")

    assert config["security.protocol"] == "SASL_SSL"
    assert (config["sasl.mechanism"], config["sasl.username"], config["sasl.password"]) == (
        "SCRAM-SHA-512",
        "loader",
        "s3cret",
    )
    assert config["ssl.ca.location"] == "/etc/ssl/ca.pem"
    assert (config["fetch.min.bytes"], config["client.rack"]) == (1024, "use1-az1")
    assert config["enable.auto.commit"] is False  # offsets live in the Delta commit


def shard(sid: str, parent: str | None = None, adjacent: str | None = None) -> dict[str, object]:
    found: dict[str, object] = {"ShardId": sid, "SequenceNumberRange": {"StartingSequenceNumber": "0"}}
    if parent:
        found["ParentShardId"] = parent
    if adjacent:
        found["AdjacentParentShardId"] = adjacent
    return found


def readable(state: dict[str, str], shards: list[dict[str, object]]) -> list[str]:
    return [s["ShardId"] for s in readable_shards(shards, state, set())]


def test_children_of_a_split_or_merge_wait_until_every_parent_is_finished() -> None:
    shards = [shard("s0"), shard("s1"), shard("s2", "s0"), shard("s3", "s0"), shard("s4", "s2", "s1")]

    assert readable({}, shards) == ["s0", "s1"]
    assert readable({"s0": FINISHED, "s1": "42"}, shards) == ["s1", "s2", "s3"]
    assert readable({"s0": FINISHED, "s1": FINISHED, "s2": FINISHED}, shards) == ["s3", "s4"]
    assert readable({"s2": "7"}, [shard("s2", "s0")]) == ["s2"]  # a parent trimmed away no longer holds it back


def test_json_values_parse_together_with_nulls_kept_and_bad_ones_set_apart() -> None:
    payloads = [b'{"n":1}', None, b'{"n": oops', b"[1, 2]", b'{"n":4,"s":"x"}', b"\xff\xfe"]

    column, failures = parse_json_objects(payloads)

    assert column.to_pylist() == [{"n": 1, "s": None}, None, {"n": 4, "s": "x"}]
    assert sorted(failures) == [2, 3, 5]
    assert failures[2].startswith("malformed JSON payload")
    assert failures[3] == "the JSON payload is not an object but list"


def test_a_json_value_written_over_several_lines_still_parses() -> None:
    column, failures = parse_json_objects([b'{\n  "n": 1\n}', b'{"n":2}', b'{"n":\n oops'])

    assert column.to_pylist() == [{"n": 1}, {"n": 2}]
    assert list(failures) == [2]
