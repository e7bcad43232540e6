"""The local platform: a Spark Thrift server like EMR's (`spark`), a real S3 server (`s3`, SeaweedFS),
the Delta and S3 jars from Maven Central (`jars`) and the process handling they share (`process`)."""
