#!/usr/bin/env bash
# Fetches the CRD schemas the manifest tests validate against (tests/deploy/test_manifests.py), from
# registries only, into var/cache/k8s-schemas-<versions>/. Idempotent: does nothing once complete.
#
# - Strimzi KafkaTopic / KafkaUser: Maven Central. The io.strimzi:api jar carries the CRD model classes
#   but no CRD YAML; Strimzi's own build turns them into CRDs with io.strimzi:crd-generator, and so do we.
#   api 0.51.0 is the newest release compiled for Java 11 (1.x needs Java 21; Debian 12 has 17) and
#   serves kafka.strimzi.io/v1; crd-generator 0.45.0 is the newest release of the generator before 1.x.
# - KEDA ScaledObject / TriggerAuthentication: the Go module github.com/kedacore/keda/v2 from the Go
#   module proxy (config/crd/bases/), with `go mod download`, or the proxy's zip if go is absent.
#
# Kubernetes' own API schemas ship inside the kubernetes-validate wheel (PyPI): nothing to fetch.
# Needs: java 17+, mvn (both installed by deploy/local/setup.sh), and go or curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

STRIMZI_API_VERSION=0.51.0
STRIMZI_CRD_GENERATOR_VERSION=0.45.0
KEDA_VERSION=v2.21.0
OUT="$ROOT/var/cache/k8s-schemas-strimzi-$STRIMZI_API_VERSION-keda-$KEDA_VERSION"

if [ -f "$OUT/.complete" ]; then
  echo "$OUT"
  exit 0
fi
WORK=$(mktemp -d "$ROOT/var/cache/.k8s-schemas.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/out/strimzi" "$WORK/out/keda"

echo "[fetch-schemas] Strimzi CRDs from Maven Central (io.strimzi:api:$STRIMZI_API_VERSION)" >&2
cat > "$WORK/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.mcf</groupId><artifactId>strimzi-crd-schemas</artifactId><version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.strimzi</groupId><artifactId>api</artifactId><version>$STRIMZI_API_VERSION</version></dependency>
    <dependency><groupId>io.strimzi</groupId><artifactId>crd-generator</artifactId><version>$STRIMZI_CRD_GENERATOR_VERSION</version></dependency>
  </dependencies>
</project>
POM
mvn -B -q -f "$WORK/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$WORK/libs" >&2
java -cp "$WORK/libs/*" io.strimzi.crdgenerator.CrdGenerator \
  --target-kube 1.16+ --crd-api-version v1 --api-versions v1 --storage-version v1 --yaml \
  "io.strimzi.api.kafka.model.topic.KafkaTopic=$WORK/out/strimzi/kafkatopics.kafka.strimzi.io.yaml" \
  "io.strimzi.api.kafka.model.user.KafkaUser=$WORK/out/strimzi/kafkausers.kafka.strimzi.io.yaml" 2>&1 \
  | { grep -v "^SLF4J" || true; } >&2

echo "[fetch-schemas] KEDA CRDs from the Go module proxy (github.com/kedacore/keda/v2@$KEDA_VERSION)" >&2
KEDA_FILES="keda.sh_scaledobjects.yaml keda.sh_triggerauthentications.yaml"
if command -v go >/dev/null; then
  dir=$(GOFLAGS=-modcacherw GOMODCACHE="$WORK/gomod" go mod download -json "github.com/kedacore/keda/v2@$KEDA_VERSION" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  for f in $KEDA_FILES; do cp "$dir/config/crd/bases/$f" "$WORK/out/keda/$f"; done
else
  proxy=${GOPROXY:-https://proxy.golang.org}; proxy=${proxy%%,*}
  curl -fsSL -o "$WORK/keda.zip" "$proxy/github.com/kedacore/keda/v2/@v/$KEDA_VERSION.zip"
  python3 - "$WORK/keda.zip" "$WORK/out/keda" "$KEDA_VERSION" $KEDA_FILES <<'PY'
import sys, zipfile
from pathlib import Path
archive, out, version, *names = sys.argv[1:]
with zipfile.ZipFile(archive) as z:
    for name in names:
        Path(out, name).write_bytes(z.read(f"github.com/kedacore/keda/v2@{version}/config/crd/bases/{name}"))
PY
fi

chmod -R u+w "$WORK/out"
for f in "$WORK"/out/strimzi/*.yaml "$WORK"/out/keda/*.yaml; do
  grep -q "kind: CustomResourceDefinition" "$f" || { echo "[fetch-schemas] not a CRD: $f" >&2; exit 1; }
done
printf 'strimzi api %s (crd-generator %s)\nkeda %s\n' "$STRIMZI_API_VERSION" "$STRIMZI_CRD_GENERATOR_VERSION" "$KEDA_VERSION" \
  > "$WORK/out/.complete"
rm -rf "$OUT"
mv "$WORK/out" "$OUT"
echo "$OUT"
