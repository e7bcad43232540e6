"""Core contracts shared by every source family: errors, storage roots, the stream protocol,
configuration and the bronze writer."""
