"""Core contracts shared by every source family: the stream protocol, configuration, the bronze
writer, schema policy, quarantine, ledger, retries and redaction (errors and the root are `lakehouse.core`)."""
