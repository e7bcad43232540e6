"""The company's Kinesis data stream into a real Kinesis endpoint (AWS, or moto's server locally).

The stream is created with the generator's shard count (even hash-key ranges, as Kinesis makes
them), so each record's partition key lands on the shard the files name. Records are put in file
order with their partition key and payload (`Data`); the server assigns sequence numbers and arrival
times of its own. The last batch put is kept in a tag on the stream (`lakehouse-published`), so
publishing again puts only later batches.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from company.projections.streams import KINESIS_SHARDS, KINESIS_STREAM
from company.publish.streams import StreamPublishReport, batches, system_meta
from lakehouse.core.errors import SourceError

TAG = "lakehouse-published"
PUT_LIMIT = 500  # records per PutRecords call
REGION = "us-east-1"


class KinesisPublisher:
    def __init__(self, endpoint: str) -> None:
        import boto3

        self.endpoint = endpoint
        self.where = endpoint
        self.name = KINESIS_STREAM.native_name
        self.client = boto3.client("kinesis", region_name=REGION, endpoint_url=endpoint or None)
        try:
            self.client.list_streams(Limit=1)
        except Exception as exc:
            raise SourceError(
                f"cannot reach Kinesis at {endpoint}: {str(exc).splitlines()[0]}",
                "check --kinesis (an endpoint URL such as http://127.0.0.1:5000) and the AWS credentials",
            ) from None

    def publish(self, folder: Path) -> list[StreamPublishReport]:
        done = self._ensure_stream()
        report = StreamPublishReport(KINESIS_STREAM.stream, self.name)
        for batch, _spec, records, dirty in batches(folder, "kinesis"):
            report.skipped_dirty += dirty
            if done is not None and batch <= done:
                continue
            for start in range(0, len(records), PUT_LIMIT):
                self._put(records[start : start + PUT_LIMIT])
            self.client.add_tags_to_stream(StreamName=self.name, Tags={TAG: batch})
            report.messages += len(records)
            report.batches += 1
        return [report]

    def _put(self, records: list[dict[str, Any]]) -> None:
        entries = [{"Data": base64.b64decode(r["Data"]), "PartitionKey": r["PartitionKey"]} for r in records]
        for _attempt in range(10):
            response = self.client.put_records(StreamName=self.name, Records=entries)
            if not response.get("FailedRecordCount"):
                return
            # Throttled entries are retried, in order, on their own (the others are in).
            entries = [e for e, r in zip(entries, response["Records"], strict=True) if "ErrorCode" in r]
        raise SourceError(f"Kinesis stream {self.name}: records kept failing", "publish again later")

    def _ensure_stream(self) -> str | None:
        """Create the stream when missing; the last batch published into it, if any."""
        try:
            tags = self.client.list_tags_for_stream(StreamName=self.name)["Tags"]
            return next((t["Value"] for t in tags if t["Key"] == TAG), None)
        except self.client.exceptions.ResourceNotFoundException:
            self.client.create_stream(StreamName=self.name, ShardCount=KINESIS_SHARDS)
            self.client.get_waiter("stream_exists").wait(StreamName=self.name, WaiterConfig={"Delay": 0.5})
            return None

    def loader_source(self) -> dict[str, Any]:
        options: dict[str, Any] = {"region": REGION}
        if self.endpoint:
            options["endpoint_url"] = self.endpoint
        stream = {
            "name": KINESIS_STREAM.stream,
            "stream_name": self.name,
            "primary_key": list(KINESIS_STREAM.primary_key),
        }
        return {
            **system_meta("kinesis"),
            "type": "kinesis",
            "description": f"The synthetic company's Kinesis data stream, published into {self.where}.",
            "options": options,
            "streams": [stream],
        }

    def close(self) -> None:
        self.client.close()


def connect(address: str) -> KinesisPublisher:
    return KinesisPublisher(address)
