"""Secrets Manager: one secret per source that needs credentials, and the salt of the PII hashes.

The stack creates the secrets with a placeholder; operators put the real credentials in
(`aws secretsmanager put-secret-value`). Loaders read `lakehouse/<env>/sources/<source>`.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from lakehouse_infra.config import LakehouseConfig
from lakehouse_infra.nag import suppress


def source_secret_name(config: LakehouseConfig, source: str) -> str:
    return f"lakehouse/{config.env}/sources/{source}"


class SecretsConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str, config: LakehouseConfig, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY
        self.sources: dict[str, sm.Secret] = {}
        for source in config.credential_sources:
            self.sources[source] = sm.Secret(
                self,
                f"Source-{source}",
                secret_name=source_secret_name(config, source),
                description=f"Credentials of the {source} source (set by operators; read by its loader)",
                encryption_key=key,
                removal_policy=removal,
            )
        self.pii_salt = sm.Secret(
            self,
            "PiiSalt",
            secret_name=f"lakehouse/{config.env}/pii-salt",
            description="LAKEHOUSE_PII_SALT: the salt of dbt's email/phone/name hashes",
            encryption_key=key,
            generate_secret_string=sm.SecretStringGenerator(password_length=48, exclude_punctuation=True),
            removal_policy=removal,
        )
        suppress(
            self,
            {
                "AwsSolutions-SMG4": "Source credentials are issued and rotated by each source system's owner, "
                "who updates the secret; the PII salt must not rotate, or every hashed key would change."
            },
        )

    @property
    def all(self) -> list[sm.Secret]:
        return [*self.sources.values(), self.pii_salt]
