#!/usr/bin/env bash
# kafka-jars.sh [DIR]: fetch the jars of a real Apache Kafka broker (and its
# log4j2 binding) into DIR/lib, for the end-to-end tests in e2e/ (run them
# with: go test -race -tags e2e ./e2e/...).
#
# DIR defaults to ${KWI_KAFKA_HOME:-$HOME/.cache/kafka-workload-identity/kafka}.
# The version is pinned (KWI_KAFKA_VERSION overrides it) because the tests
# assert broker behaviour: 4.1.0 and 4.1.1 accept JWTs without checking
# their signature, so anything older than 4.2.0 is refused.
#
# Idempotent: DIR/lib/.complete records the version of a finished copy and
# a second run with the same version does nothing. Needs java (17+) and mvn;
# the jars come through mvn from the repositories configured for it.
set -euo pipefail

KAFKA_VERSION="${KWI_KAFKA_VERSION:-4.4.0}"
# Must match the log4j-core that kafka-server depends on at KAFKA_VERSION.
LOG4J_VERSION="${KWI_LOG4J_VERSION:-2.25.5}"
DIR="${1:-${KWI_KAFKA_HOME:-$HOME/.cache/kafka-workload-identity/kafka}}"

CACHE_NAME=kafka-jars.sh
CACHE_DIR="$DIR"
CACHE_OUT="$DIR/lib"
CACHE_STAMP="kafka_2.13-$KAFKA_VERSION log4j-$LOG4J_VERSION"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LIB="$CACHE_OUT"

case "$KAFKA_VERSION" in
  [0-3].* | 4.[01].*) die "Kafka $KAFKA_VERSION is too old: 4.1.0/4.1.1 skip JWT signature checks and the tests need 4.2.0 or newer; unset KWI_KAFKA_VERSION" ;;
esac

cache_begin fetch

command -v java >/dev/null 2>&1 || die "java not found on PATH; install a JDK 17 or newer (e.g. apt-get install openjdk-17-jre-headless)"
JAVA_SPEC="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
case "$JAVA_SPEC" in
  1.* | 9 | 1[0-6] | "") die "java on PATH is version '${JAVA_SPEC:-unknown}'; Kafka 4 brokers need Java 17 or newer" ;;
esac
command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH; install Maven 3.8 or newer (e.g. apt-get install maven)"

cat >"$WORK/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kafka-workload-identity</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM

echo "kafka-jars.sh: fetching Apache Kafka $KAFKA_VERSION into $LIB" >&2
if ! mvn -B -q -f "$WORK/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$WORK/lib" >"$WORK/mvn.log" 2>&1; then
  cat "$WORK/mvn.log" >&2
  die "mvn could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION (see the log above); check network access for mvn (proxy in ~/.m2/settings.xml) and retry"
fi
ls "$WORK/lib"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 ||
  die "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is missing from $WORK/lib; rerun, or delete $DIR and rerun"

cache_install "$WORK/lib"
echo "kafka-jars.sh: $(ls "$LIB" | wc -l) jars in $LIB" >&2
