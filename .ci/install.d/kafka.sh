#!/usr/bin/env bash
# Apache Kafka 4.x (KRaft, no ZooKeeper) for the Kafka source tests: the broker's jars from Maven Central
# (org.apache.kafka:kafka_2.13 and its runtime dependencies), copied by Maven into
# ~/.cache/lakehouse/kafka/<version>/libs. Idempotent: a complete copy is left alone.
# The tests' `kafka_server` fixture (tests/helpers/stream_servers.py) formats a private log folder and
# starts `kafka.Kafka` from these jars on free loopback ports.
set -euo pipefail
KAFKA_VERSION="${KAFKA_VERSION:-4.2.0}"
target="${HOME}/.cache/lakehouse/kafka/${KAFKA_VERSION}"
if [ -f "${target}/.complete" ]; then
  exit 0
fi
command -v java >/dev/null || { echo "kafka.sh: java is missing (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "kafka.sh: mvn is missing (apt-get install maven)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
cat > "${work}/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lakehouse.ci</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <!-- the broker's logging backend (kafka_2.13 leaves it to the distribution) -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
      <version>2.0.17</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId>
      <version>2.24.3</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>2.24.3</version>
    </dependency>
  </dependencies>
</project>
POM
mkdir -p "${target}/libs"
mvn -B -q -f "${work}/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="${target}/libs"
touch "${target}/.complete"
echo "kafka.sh: Apache Kafka ${KAFKA_VERSION} jars in ${target}/libs"
