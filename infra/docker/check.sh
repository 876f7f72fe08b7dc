#!/usr/bin/env bash
# Checks the container packaging without a Docker engine (infra/docker/README.md, "Validated
# here"). Tools go to git-ignored places: binaries under .stack/cache/tools/ (TRIBUTARY_STACK_DIR
# moves .stack), Go modules in Go's own module cache. Nothing is added to package.json.
#
#   bash infra/docker/check.sh
#
# Needs: Go 1.24+ (PATH or /usr/local/go/bin; reaches the Go module proxy the first time), Node
# and npm; promtool (Debian package `prometheus`) and mosquitto for two optional steps.
# Checks:
#   1. docker compose config: Docker Compose v2.40.3, built from its Go module the first time.
#   2. Dockerfile: BuildKit v0.25.1's parser and `docker build --check` rules (experimental ones
#      too), base images stubbed; the build context after .dockerignore holds what COPY needs.
#   3. Dockerfile: dockerfile-utils (npm), another parser and linter.
#   4. promtool check config infra/compose/prometheus.yml.
#   5. Grafana dashboard: structure and datasource uids; every query parsed by promtool and
#      evaluated by `promtool test rules` over series named as the metrics contract says; every
#      tributary_* name it reads defined in src/metrics/.
#   6. infra/compose/mosquitto.conf loaded by the local mosquitto on a loopback port, anonymous
#      connect and publish.
set -uo pipefail

COMPOSE_VERSION=v2.40.3
BUILDKIT_VERSION=v0.25.1
PATTERNMATCHER_VERSION=v0.6.0
DOCKERFILE_UTILS_VERSION=0.16.3

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
stack="${TRIBUTARY_STACK_DIR:-$root/.stack}"
tools="$stack/cache/tools"
work="$tools/work"
mkdir -p "$tools/bin" "$work"
export PATH="$PATH:/usr/local/go/bin"

failures=0
pass() { printf 'PASS  %s\n' "$1"; }
fail() { printf 'FAIL  %s\n' "$1"; failures=$((failures + 1)); }
skip() { printf 'SKIP  %s\n' "$1"; }
step() { printf '\n== %s\n' "$1"; }

have_go() { command -v go > /dev/null; }

# --- 1. docker compose config ---------------------------------------------------------------
step "docker compose config (Compose $COMPOSE_VERSION)"
compose="$tools/bin/docker-compose"
if [ ! -x "$compose" ] || ! "$compose" version 2> /dev/null | grep -q "$COMPOSE_VERSION"; then
  if have_go; then
    echo "building Docker Compose $COMPOSE_VERSION from the Go module proxy (about 2 minutes)"
    # `go install ...@version` refuses this module (its go.mod has exclude directives), so build
    # the downloaded module as the main module.
    dir="$(GOFLAGS=-mod=mod go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" |
      node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s).Dir))')"
    rm -rf "$work/compose" && cp -r "$dir" "$work/compose" && chmod -R u+w "$work/compose"
    (cd "$work/compose" && go build -trimpath \
      -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
      -o "$compose" ./cmd) || rm -f "$compose"
  fi
fi
if [ -x "$compose" ]; then
  # As a CLI plugin of the docker client when there is one (`docker compose`), else standalone.
  mkdir -p "$tools/docker/cli-plugins" && cp -f "$compose" "$tools/docker/cli-plugins/docker-compose"
  if command -v docker > /dev/null; then
    run_compose() { DOCKER_CONFIG="$tools/docker" docker compose "$@"; }
  else
    run_compose() { "$compose" "$@"; }
  fi
  run_compose version
  if out="$(run_compose config --quiet 2>&1)" && [ -z "$out" ]; then
    pass "docker compose config --quiet"
  else
    echo "$out"
    fail "docker compose config --quiet"
  fi
  if out="$(run_compose --profile demo config --quiet 2>&1)" && [ -z "$out" ]; then
    pass "docker compose --profile demo config --quiet"
  else
    echo "$out"
    fail "docker compose --profile demo config --quiet"
  fi
  echo "services: $(run_compose --profile demo config --services | sort | tr '\n' ' ')"
  # Scalable: the worker has neither a container name nor a host port.
  if run_compose config --format json | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const w = JSON.parse(s).services.worker;
      const bad = [w.container_name && "container_name", w.ports && "ports"].filter(Boolean);
      if (bad.length) { console.log("worker has " + bad.join(", ")); process.exit(1); }
    });'; then
    pass "worker service is scalable (no container_name, no published port)"
  else
    fail "worker service is scalable"
  fi
else
  fail "Docker Compose $COMPOSE_VERSION not available (Go missing or the build failed)"
fi

# --- 2. BuildKit's Dockerfile checks ----------------------------------------------------------
step "Dockerfile: BuildKit $BUILDKIT_VERSION parser and lint rules, build context"
dfcheck="$tools/bin/dockerfile-check-$BUILDKIT_VERSION"
if [ ! -x "$dfcheck" ] && have_go; then
  echo "building dockerfile-check against BuildKit $BUILDKIT_VERSION (about 1 minute)"
  rm -rf "$work/dockerfile-check" && mkdir -p "$work/dockerfile-check"
  cat > "$work/dockerfile-check/main.go" << 'GO_EOF'
// dockerfile-check: runs BuildKit's Dockerfile parser and the rules of `docker build --check`
// (github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb.DockerfileLint) without an engine:
// base images are not pulled, a stub resolver answers with an empty linux image config.
// It also lists the build context that .dockerignore lets through (github.com/moby/patternmatcher,
// the matcher the docker CLI and buildx use) and fails if a required path is not in it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"
)

type stubResolver struct{}

func (stubResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg := map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + strings.Repeat("0", 64)}},
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
	}
	dt, err := json.Marshal(cfg)
	return ref, "", dt, err
}

func main() {
	dockerfile := flag.String("f", "Dockerfile", "Dockerfile to check")
	contextDir := flag.String("context", ".", "build context directory")
	experimental := flag.Bool("experimental", true, "also run BuildKit's experimental rules")
	require := flag.String("require", "", "comma-separated paths that must be in the build context")
	listContext := flag.Bool("list", false, "print every file of the build context")
	flag.Parse()

	failed := false
	dt, err := os.ReadFile(*dockerfile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	src := dt
	offset := 0
	if *experimental {
		// A parser directive; the file's own directives (syntax, check) still apply.
		src = append([]byte("# check=experimental=all\n"), dt...)
		offset = 1
	}
	sm := llb.NewSourceMap(nil, *dockerfile, "Dockerfile", src)
	sm.Definition = &llb.Definition{}
	res, err := dockerfile2llb.DockerfileLint(context.Background(), src, dockerfile2llb.ConvertOpt{
		SourceMap:    sm,
		MetaResolver: stubResolver{},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lint:", err)
		os.Exit(2)
	}
	if res.Error != nil {
		failed = true
		line := 0
		if len(res.Error.Location.Ranges) > 0 {
			line = int(res.Error.Location.Ranges[0].Start.Line) - offset
		}
		fmt.Printf("%s:%d: ERROR %s\n", *dockerfile, line, res.Error.Message)
	}
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line) - offset
		}
		failed = true
		fmt.Printf("%s:%d: %s: %s (%s)\n", *dockerfile, line, w.RuleName, w.Detail, w.URL)
	}
	if res.Error == nil && len(res.Warnings) == 0 {
		fmt.Printf("%s: BuildKit parse and lint rules: no errors, no warnings\n", *dockerfile)
	}

	// The build context after .dockerignore, as the docker CLI computes it.
	var patterns []string
	if f, err := os.Open(filepath.Join(*contextDir, ".dockerignore")); err == nil {
		patterns, err = ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, ".dockerignore:", err)
			os.Exit(2)
		}
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		fmt.Fprintln(os.Stderr, ".dockerignore:", err)
		os.Exit(2)
	}
	files := 0
	var size int64
	included := map[string]bool{}
	err = filepath.WalkDir(*contextDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(*contextDir, path)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		skip, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		if skip {
			if d.IsDir() && !pm.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			info, _ := d.Info()
			files++
			if info != nil {
				size += info.Size()
			}
			if *listContext {
				fmt.Println("  context:", rel)
			}
		}
		for p := rel; p != "."; p = filepath.ToSlash(filepath.Dir(p)) {
			included[p] = true
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "context:", err)
		os.Exit(2)
	}
	fmt.Printf("build context after .dockerignore: %d files, %.1f KiB\n", files, float64(size)/1024)
	for _, r := range strings.Split(*require, ",") {
		r = strings.TrimSuffix(strings.TrimSpace(r), "/")
		if r == "" {
			continue
		}
		if included[r] {
			fmt.Printf("  in context: %s\n", r)
		} else {
			failed = true
			fmt.Printf("  MISSING from context: %s\n", r)
		}
	}
	if failed {
		os.Exit(1)
	}
}
GO_EOF
  (cd "$work/dockerfile-check" &&
    go mod init tributary.local/dockerfile-check > /dev/null 2>&1 &&
    go get "github.com/moby/buildkit@$BUILDKIT_VERSION" "github.com/moby/patternmatcher@$PATTERNMATCHER_VERSION" > /dev/null 2>&1 &&
    go mod tidy > /dev/null 2>&1 &&
    go build -o "$dfcheck" .) || rm -f "$dfcheck"
fi
if [ -x "$dfcheck" ]; then
  if "$dfcheck" -f Dockerfile -context . \
    -require package.json,package-lock.json,tsconfig.json,bin/tributary.js,src,topologies/readings.ts; then
    pass "BuildKit lint (all rules, experimental included) and build context"
  else
    fail "BuildKit lint or build context"
  fi
else
  fail "dockerfile-check not available (Go missing or the build failed)"
fi

# --- 3. dockerfile-utils ----------------------------------------------------------------------
step "Dockerfile: dockerfile-utils $DOCKERFILE_UTILS_VERSION (npm)"
dfutils="$tools/npm/node_modules/.bin/dockerfile-utils"
if [ ! -x "$dfutils" ]; then
  npm install --prefix "$tools/npm" --no-save --no-audit --no-fund --loglevel=error \
    "dockerfile-utils@$DOCKERFILE_UTILS_VERSION" > /dev/null
fi
if [ -x "$dfutils" ]; then
  # It exits 0 even when it warns: any output is a finding.
  out="$("$dfutils" lint Dockerfile 2>&1)"
  if [ -z "$out" ]; then pass "dockerfile-utils lint Dockerfile: no findings"; else
    echo "$out"
    fail "dockerfile-utils lint Dockerfile"
  fi
else
  fail "dockerfile-utils could not be installed"
fi

# --- 4. Prometheus configuration -------------------------------------------------------------
step "Prometheus configuration"
if command -v promtool > /dev/null; then
  promtool --version 2>&1 | head -1
  if promtool check config infra/compose/prometheus.yml; then pass "promtool check config"; else fail "promtool check config"; fi
else
  skip "promtool not found (apt-get install prometheus)"
fi

# --- 5. Grafana dashboard --------------------------------------------------------------------
step "Grafana dashboard"
mkdir -p "$work/dashboard"
cat > "$work/dashboard/check.mjs" << 'JS_EOF'
// Dashboard check: structure, and every PromQL query as a promtool rule + unit test.
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [file, outDir, srcMetrics] = process.argv.slice(2);
const d = JSON.parse(readFileSync(file, 'utf8'));
const problems = [];
const ids = new Set();
const queries = [];
const walk = (panels) => {
  for (const p of panels) {
    if (ids.has(p.id)) problems.push(`duplicate panel id ${p.id}`);
    ids.add(p.id);
    const g = p.gridPos;
    if (!g || g.x < 0 || g.w < 1 || g.x + g.w > 24 || g.h < 1) problems.push(`panel ${p.id} "${p.title}": bad gridPos`);
    if (p.type !== 'row') {
      if (p.datasource?.uid !== 'prometheus') problems.push(`panel ${p.id} "${p.title}": datasource uid is not "prometheus"`);
      if (!p.targets?.length) problems.push(`panel ${p.id} "${p.title}": no query`);
      for (const t of p.targets ?? []) {
        if (t.datasource?.uid !== 'prometheus') problems.push(`panel ${p.id} ${t.refId}: datasource uid is not "prometheus"`);
        queries.push({ panel: `${p.id} ${p.title} (${t.refId})`, expr: t.expr });
      }
    }
    if (p.panels) walk(p.panels);
  }
};
walk(d.panels);
for (const v of d.templating?.list ?? []) {
  if (v.datasource?.uid !== 'prometheus') problems.push(`variable ${v.name}: datasource uid is not "prometheus"`);
}
if (!d.uid || typeof d.schemaVersion !== 'number') problems.push('uid or schemaVersion missing');
if (JSON.stringify(d).includes('${DS_')) problems.push('contains an import-time ${DS_...} datasource placeholder');

// Grafana variables -> what "All" sends.
const concrete = (e) => e.replaceAll('$app', '.*').replaceAll('$instance', '.*').replaceAll('$__rate_interval', '1m');

// Recording rules (promtool check rules parses each expression) and a unit test: with one
// worker's worth of series named as the metrics contract says, each query returns something.
const rules = ['groups:', '  - name: dashboard', '    rules:'];
queries.forEach((q, i) => rules.push(`      - record: dashboard_query_${i}`, `        expr: ${JSON.stringify(concrete(q.expr))}`));
writeFileSync(join(outDir, 'dashboard-rules.yml'), rules.join('\n') + '\n');

const base = 'app="readings", job="tributary", instance="172.18.0.9:9464"';
const series = [];
const add = (name, labels, values) => series.push({ series: `${name}{${[base, labels].filter(Boolean).join(', ')}}`, values });
const counter = '0+10x200';
add('up', '', '1x200');
for (const op of ['source', 'to']) {
  add('tributary_records_in_total', `task="0_0", operator="${op}"`, counter);
  add('tributary_records_out_total', `task="0_0", operator="${op}"`, counter);
}
for (const [h, labels] of [['tributary_process_latency_seconds', 'task="0_0"'], ['tributary_commit_duration_seconds', 'guarantee="at_least_once"']]) {
  for (const [le, step] of [['0.005', 2], ['0.05', 8], ['0.5', 10], ['+Inf', 10]]) add(`${h}_bucket`, `${labels}, le="${le}"`, `0+${step}x200`);
  add(`${h}_count`, labels, '0+10x200');
  add(`${h}_sum`, labels, '0+0.2x200');
}
add('tributary_consumer_lag', 'topic="readings", partition="0"', '100x200');
add('tributary_watermark_seconds', 'task="0_0"', '100+5x200');
add('tributary_late_records_total', 'task="0_0"', '0+1x200');
add('tributary_dlq_records_total', 'task="0_0"', '0+1x200');
add('tributary_restore_records_total', 'task="0_0", store="hourly"', '0+100x200');
add('tributary_tasks_restoring', '', '0x200');
add('tributary_tasks', '', '6x200');
add('tributary_rebalances_total', '', '0+0x100 1+0x100');
add('tributary_sink_write_errors_total', 'sink="cassandra"', '0+1x200');
add('tributary_ready', '', '1x200');
add('process_cpu_seconds_total', '', '0+0.5x200');
add('process_resident_memory_bytes', '', '100000000x200');
add('nodejs_heap_size_used_bytes', '', '50000000x200');
add('nodejs_eventloop_lag_seconds', '', '0.002x200');
add('nodejs_eventloop_lag_p99_seconds', '', '0.01x200');
const tests = ['rule_files:', '  - dashboard-rules.yml', 'evaluation_interval: 5s', 'tests:', '  - interval: 5s', '    input_series:'];
for (const s of series) tests.push(`      - series: ${JSON.stringify(s.series)}`, `        values: ${JSON.stringify(s.values)}`);
tests.push('    promql_expr_test:');
queries.forEach((_, i) => tests.push(`      - expr: count(dashboard_query_${i}) > bool 0`, '        eval_time: 10m', '        exp_samples:', "          - labels: '{}'", '            value: 1'));
writeFileSync(join(outDir, 'dashboard-tests.yml'), tests.join('\n') + '\n');
writeFileSync(join(outDir, 'dashboard-queries.txt'), queries.map((q, i) => `dashboard_query_${i}\t${q.panel}\t${q.expr}`).join('\n') + '\n');

// Every tributary_* metric the dashboard reads is defined in src/metrics (when it exists).
const used = new Set(queries.flatMap((q) => q.expr.match(/tributary_[a-z_]+/g) ?? []).map((n) => n.replace(/_(bucket|count|sum)$/, '')));
if (srcMetrics && existsSync(srcMetrics)) {
  const src = readdirSync(srcMetrics).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(srcMetrics, f), 'utf8')).join('\n');
  for (const n of used) if (!src.includes(`'${n}'`)) problems.push(`metric ${n} is not defined in ${srcMetrics}`);
  console.log(`metric names: ${used.size} tributary_* names used, checked against ${srcMetrics}`);
} else {
  console.log(`metric names: ${srcMetrics} not found, not checked`);
}
console.log(`dashboard: ${ids.size} panels, ${queries.length} queries, ${(d.templating?.list ?? []).length} variables`);
for (const p of problems) console.log(`PROBLEM: ${p}`);
process.exit(problems.length ? 1 : 0);
JS_EOF
if node "$work/dashboard/check.mjs" infra/grafana/dashboards/tributary.json "$work/dashboard" src/metrics; then
  pass "dashboard structure and metric names"
else
  fail "dashboard structure and metric names"
fi
if command -v promtool > /dev/null; then
  if (cd "$work/dashboard" && promtool check rules dashboard-rules.yml && promtool test rules dashboard-tests.yml); then
    pass "every dashboard query parses and returns series for the metrics contract"
  else
    echo "queries by number: $work/dashboard/dashboard-queries.txt"
    fail "dashboard queries"
  fi
else
  skip "dashboard queries: promtool not found"
fi

# --- 6. Mosquitto configuration --------------------------------------------------------------
step "Mosquitto configuration"
if command -v mosquitto > /dev/null && [ -d node_modules/mqtt ]; then
  port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  sed "s/^listener 1883 0.0.0.0\$/listener $port 127.0.0.1/" infra/compose/mosquitto.conf > "$work/mosquitto.conf"
  mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
  mqpid=$!
  sleep 1
  if node -e '
    const c = require("mqtt").connect(process.argv[1], { reconnectPeriod: 0, connectTimeout: 3000 });
    c.on("connect", () => c.publish("healthcheck", "ok", { qos: 1 }, (e) => { c.end(); process.exit(e ? 1 : 0); }));
    c.on("error", (e) => { console.log(e.message); process.exit(1); });' "mqtt://127.0.0.1:$port"; then
    pass "mosquitto $(mosquitto -h 2>&1 | head -1 | awk '{print $3}') loads the config; anonymous connect and publish"
  else
    cat "$work/mosquitto.log"
    fail "mosquitto configuration"
  fi
  kill "$mqpid" 2> /dev/null
  wait "$mqpid" 2> /dev/null
else
  skip "mosquitto or node_modules/mqtt not found"
fi

echo
if [ "$failures" -eq 0 ]; then echo "all checks passed"; else echo "$failures check(s) failed"; fi
[ "$failures" -eq 0 ]
