"""Airbyte connections as code: the workspace YAML (`airbyte/`), its diff against an Airbyte workspace
(`plan`), applying it (`apply`) and running a connection's sync (`sync`), all through the official
`airbyte-api` SDK. The loader side of Airbyte (connectors run locally, S3 landing files into bronze)
lives in `loaders/airbyte/`."""
