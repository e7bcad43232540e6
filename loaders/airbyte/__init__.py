"""Airbyte in the loader library: connectors run locally, and Airbyte's S3 landing files into bronze."""
