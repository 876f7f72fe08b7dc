#!/usr/bin/env bash
# Installs @confluentinc/kafka-javascript 1.10.1 into bench/clients/confluent/node_modules,
# building its addon and librdkafka from source (npm run bench:clients:install-confluent runs this).
#
# Its npm tarball has no compiled addon: `node-pre-gyp install` fetches one from GitHub releases,
# which this machine cannot reach, and its fallback (static linking) runs librdkafka's
# `configure --install-deps`, which downloads zlib, OpenSSL, zstd and curl from their own sites.
# With CKJS_LINKING=dynamic it builds the librdkafka 2.15.1 source bundled in the tarball
# against the Debian -dev packages instead, and links them dynamically (about a minute on 2 cores).
# Linking Debian 12's own librdkafka-dev (2.0.2, BUILD_LIBRDKAFKA=0) fails: too old for the
# binding (no rd_kafka_Uuid_t, see CLIENTS-REPORT.md).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

# 1. Debian packages the build needs (only those missing are installed).
needed=(build-essential python3 pkg-config libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev)
missing=()
for pkg in "${needed[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  echo "install.sh: installing Debian packages: ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update
  "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

# 2. The package without its install script (which would try GitHub, then a static build).
npm install --prefix "$here" --no-audit --no-fund --ignore-scripts

# 3. The addon and librdkafka from source, linked to the system libraries. npm 11 runs a
#    dependency's install scripts only when package.json's allowScripts approves them
#    (`npm install-scripts approve @confluentinc/kafka-javascript` wrote that entry). The headers
#    are those of the node that runs this script: a `nodedir` in an npmrc (this machine's
#    ~/.npmrc says /usr, the system Node 20) would otherwise build an addon Node 26 refuses
#    ("compiled against NODE_MODULE_VERSION 115").
#    The Node npm ci links into node_modules/.bin (scripts/ensure-node.mjs) has no headers: they
#    come from the same registry package, unpacked once into node-headers/<version>.
nodedir="$(node -p 'require("node:path").resolve(process.execPath, "../..")')"
if [[ ! -f "$nodedir/include/node/node.h" ]]; then
  version="$(node -p process.versions.node)"
  nodedir="$here/node-headers/$version"
  if [[ ! -f "$nodedir/include/node/node.h" ]]; then
    work="$(mktemp -d)"
    (cd "$work" && npm pack "node-$(node -p process.platform)-$(node -p process.arch)@$version" --silent >/dev/null)
    mkdir -p "$nodedir"
    tar -xzf "$work"/*.tgz -C "$nodedir" --strip-components=1 package/include
    rm -rf "$work"
  fi
fi
rm -rf "$here/node_modules/@confluentinc/kafka-javascript/build"
env CKJS_LINKING=dynamic npm_config_build_from_source=true ${nodedir:+"npm_config_nodedir=$nodedir"} \
  npm rebuild --prefix "$here" --foreground-scripts @confluentinc/kafka-javascript

node -e "const k = require('$here/node_modules/@confluentinc/kafka-javascript'); console.log('install.sh: built', k.librdkafkaVersion, 'features', k.features.join(','))"
