"""Tests against real local servers (Spark Thrift, SeaweedFS, PostgreSQL, MariaDB, ...)."""
