"""`lakehouse company ...`: the synthetic company (see the `company` package)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lakehouse.cli.errors import console, friendly_errors

company_app = typer.Typer(help="The synthetic company the embedded default loads.", no_args_is_help=True)


@company_app.command("publish")
@friendly_errors
def company_publish(
    postgres: Annotated[
        str | None,
        typer.Option(
            envvar="LAKEHOUSE_POSTGRES_URI",
            help="postgresql://USER:PASSWORD@HOST:PORT/DATABASE: receives users, subscriptions, product_inventory. "
            "The database defaults to company_production, the password to $LAKEHOUSE_POSTGRES_PASSWORD.",
        ),
    ] = None,
    mysql: Annotated[
        str | None,
        typer.Option(
            envvar="LAKEHOUSE_MYSQL_URI",
            help="mysql://USER:PASSWORD@HOST:PORT/DATABASE (MySQL or MariaDB): receives customer_data, order_history. "
            "The database defaults to legacy_systems (created if missing), the password to $LAKEHOUSE_MYSQL_PASSWORD.",
        ),
    ] = None,
    mongodb: Annotated[
        str | None,
        typer.Option(
            envvar="LAKEHOUSE_MONGODB_URI",
            help="mongodb://USER:PASSWORD@HOST:PORT/DATABASE (add ?authSource=admin for a user defined there): "
            "receives the collections user_sessions, product_reviews. The database defaults to company_analytics, "
            "the password to $LAKEHOUSE_MONGODB_PASSWORD; a URI without a user is a server without authentication.",
        ),
    ] = None,
    dynamodb: Annotated[
        str | None,
        typer.Option(
            envvar="LAKEHOUSE_DYNAMODB_ENDPOINT",
            help="DynamoDB endpoint URL (a local moto server, or https://dynamodb.REGION.amazonaws.com): receives "
            "the tables user_preferences, session_data, with streams. Credentials and region come from the AWS "
            "environment.",
        ),
    ] = None,
    sftp: Annotated[
        str | None,
        typer.Option(
            envvar="LAKEHOUSE_SFTP_URI",
            help="sftp://USER@HOST:PORT/PATH: receives the vendor and partner file drops (PATH plays /outbound, "
            "its default). The password comes from $LAKEHOUSE_SFTP_PASSWORD, or a key file from "
            "$LAKEHOUSE_SFTP_PRIVATE_KEY.",
        ),
    ] = None,
    kafka: Annotated[
        str | None,
        typer.Option(
            envvar="LAKEHOUSE_KAFKA_BOOTSTRAP",
            help="HOST:PORT of a Kafka broker: receives the topics user_events, order_events, inventory_updates.",
        ),
    ] = None,
    kinesis: Annotated[
        str | None,
        typer.Option(
            envvar="LAKEHOUSE_KINESIS_ENDPOINT",
            help="Kinesis endpoint URL (e.g. a local moto server): receives company-real-time-data-stream. "
            "Credentials and region come from the AWS environment.",
        ),
    ] = None,
    mqtt: Annotated[
        str | None,
        typer.Option(
            envvar="LAKEHOUSE_MQTT_BROKER",
            help="HOST:PORT of an MQTT broker (Mosquitto): receives the IoT Core device telemetry and shadow updates.",
        ),
    ] = None,
    days: Annotated[int, typer.Option(min=0, help="First simulate N more days of changes, each one batch.")] = 0,
    scale: Annotated[float, typer.Option(help="Size of the generated company on first run (1 ≈ 150k rows).")] = 1.0,
    replace: Annotated[
        bool,
        typer.Option(help="Drop the company's tables (and SFTP files) on the servers first, then publish every batch."),
    ] = False,
    sources_dir: Annotated[
        Path | None,
        typer.Option(help="Where to write the loaders' source files (default $LAKEHOUSE_HOME/sources/local)."),
    ] = None,
) -> None:
    """Put the generated company into real servers (PostgreSQL, MySQL, MongoDB, DynamoDB, SFTP, Kafka, Kinesis, MQTT).

    Generates the company on first use (as `lakehouse demo` does), publishes every batch a server does
    not hold yet (an upsert by primary key plus the day's deletes, one transaction per batch where the
    server has transactions; on SFTP one file per day), and writes source files for `lakehouse load`
    (type postgres / mysql / mongodb / dynamodb / files, secrets read from environment variables; type
    kafka / kinesis / mqtt for the event streams, each message published once).
    """
    from company.publish.command import run_publish

    run_publish(
        console,
        postgres=postgres,
        mysql=mysql,
        mongodb=mongodb,
        dynamodb=dynamodb,
        sftp=sftp,
        kafka=kafka,
        kinesis=kinesis,
        mqtt=mqtt,
        days=days,
        scale=scale,
        replace=replace,
        sources_dir=sources_dir,
    )
