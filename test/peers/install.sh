#!/usr/bin/env bash
# Installs the test peers (moto, etcd, kube-apiserver, kube-controller-manager, kubelet, kube-scheduler, the Secrets
# Store CSI driver, helm, the image's Node.js) into one cache directory outside the repo, each keyed by its pinned
# version, and reuses what is already there. The test node's runtime (containerd, runc, the CNI loopback plugin,
# busybox, umoci) comes from Debian's packages, installed by apt-get when missing.
# Prints the environment a test run needs (KEY=VALUE lines) on its last lines when called with --print-env.
# Peer names as arguments install (and print) only those, e.g. `install.sh moto etcd kube-apiserver` for the demo;
# none installs every peer.
set -euo pipefail

PEERS='moto etcd kube-apiserver kube-controller-manager secrets-store-csi-driver helm image-node kubelet kube-scheduler debian-packages'
print_env='' wanted=()
for arg in "$@"; do
  if [[ $arg == --print-env ]]; then print_env=1
  elif [[ " $PEERS " == *" $arg "* ]]; then wanted+=("$arg")
  else echo "install.sh: no peer named '$arg'; the peers are: $PEERS" >&2; exit 2
  fi
done
# wants NAME: NAME was asked for, or no name was (every peer).
wants() { ((${#wanted[@]} == 0)) || [[ " ${wanted[*]} " == *" $1 "* ]]; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache=${PEER_CACHE_DIR:-/var/cache/aws-secrets-csi-provider}
mkdir -p "$cache"
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS=-buildvcs=false CGO_ENABLED=0

# Two test runs (or a run and a developer) may install at once: one waits for the other.
exec 9>"$cache/.install.lock"
flock 9

log() { printf '[peers] %s\n' "$*" >&2; }

# build NAME DIR FUNCTION: runs FUNCTION once into DIR; a finished DIR carries .done.
build() {
  local name=$1 dir=$2 fn=$3
  if [[ -f "$dir/.done" ]]; then return 0; fi
  rm -rf "$dir" && mkdir -p "$dir"
  local logfile="$dir.log" started=$SECONDS
  log "installing $name into $dir (log: $logfile)"
  ( "$fn" "$dir" ) >"$logfile" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if (( (SECONDS - started) % 60 < 5 )) && kill -0 "$pid" 2>/dev/null; then
      log "  $name: still building after $((SECONDS - started))s"
    fi
  done
  if ! wait "$pid"; then
    log "FAILED to install $name; last lines of $logfile:"
    tail -n 60 "$logfile" >&2
    exit 1
  fi
  touch "$dir/.done"
  log "  $name ready in $((SECONDS - started))s"
}

install_moto() {
  python3 -m venv "$1/venv"
  "$1/venv/bin/pip" install --no-input "moto[server]==$MOTO_VERSION"
  "$1/venv/bin/moto_server" --help >/dev/null
}

install_etcd() {
  local src="$1/src"
  mkdir -p "$src"
  cat >"$src/main.go" <<'GO'
// Builds the etcd server from its Go module: the test harness's storage for kube-apiserver.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$src" && go mod init etcd-peer && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go mod tidy &&
    go build -trimpath -ldflags='-s -w' -o "$1/bin/etcd" .)
  "$1/bin/etcd" --version
}

# kube_wrapper_module SRC NAME: a wrapper go.mod for building k8s.io/kubernetes commands. k8s.io/kubernetes
# lists its staging modules as v0.0.0; point each at the published release.
kube_wrapper_module() {
  local src=$1 name=$2 gomod
  mkdir -p "$src"
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module $name"
    echo
    echo "go 1.25"
    echo
    # The staging modules are the ones replaced by ./staging/ paths (k8s.io/utils and kube-openapi are
    # real v0.0.0-<date> pseudo-versions and must stay as they are).
    grep -Eo '^\s*k8s\.io/[A-Za-z0-9._/-]+ => \./staging/' "$gomod" | awk '{print $1}' | sort -u |
      while read -r m; do echo "replace $m => $m $KUBERNETES_STAGING_VERSION"; done
  } >"$src/go.mod"
}

# build_kube_command DIR COMMAND: go build k8s.io/kubernetes/cmd/COMMAND into DIR/bin, from a wrapper module of
# its own in DIR/src. Same flags for every command, so the second one reuses nearly every package in GOCACHE.
build_kube_command() {
  local dir=$1 cmd=$2
  kube_wrapper_module "$dir/src" "$cmd-peer"
  (cd "$dir/src" && go get "k8s.io/kubernetes/cmd/$cmd@$KUBERNETES_VERSION" &&
    go build -trimpath -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION" \
      -o "$dir/bin/$cmd" "k8s.io/kubernetes/cmd/$cmd")
  "$dir/bin/$cmd" --version
}

install_kube_apiserver() { build_kube_command "$1" kube-apiserver; }

# Only for its garbage collector: the test cluster's owner references are honoured, as in a real cluster.
install_kube_controller_manager() { build_kube_command "$1" kube-controller-manager; }

# The test node's kubelet and the scheduler that places its DaemonSet pods: the same wrapper module and flags as
# kube-apiserver, so most packages come from GOCACHE.
install_kubelet() { build_kube_command "$1" kubelet; }
install_kube_scheduler() { build_kube_command "$1" kube-scheduler; }

# The node's runtime, from the distribution as a user's node gets it. Debian's containerd 1.6 serves kubelet 1.36
# through kubelet's fallback for the RuntimeConfig call it lacks (versions.env).
install_debian_packages() {
  local missing=() pkg
  for pkg in $DEBIAN_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then return 0; fi
  if ((EUID != 0)); then
    log "the test node needs the Debian packages ${missing[*]}: run as root, or apt-get install them"
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  # Only the binaries are wanted: no service may start (the test node runs its own containerd).
  local policy=/usr/sbin/policy-rc.d placed=''
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && placed=1; fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
  if [[ -n $placed ]]; then rm -f "$policy"; fi
}

# The driver imports monis.app/mlog, which the Go module proxy does not serve (403), so `go install` cannot
# build it; a wrapper module replaces it with a stand-in of ours for the five names the driver calls.
install_csi_driver() {
  local src="$1/src"
  mkdir -p "$src/mlog"
  printf 'module monis.app/mlog\n\ngo 1.22\n\nrequire k8s.io/klog/v2 v2.130.1\n' >"$src/mlog/go.mod"
  cat >"$src/mlog/mlog.go" <<'GO'
// Package mlog stands in for monis.app/mlog in the test build of the Secrets Store CSI driver: the driver
// uses only this surface of it, and plain klog serves a test peer.
package mlog

import (
	"context"
	"fmt"
	"os"

	"k8s.io/klog/v2"
)

type LogFormat string

const (
	FormatText LogFormat = "text"
	FormatJSON LogFormat = "json"
)

func Setup() func() { return klog.Flush }

func ValidateAndSetKlogLevelAndFormatGlobally(_ context.Context, _ klog.Level, _ LogFormat) error { return nil }

func Error(msg string, err error, keysAndValues ...any) { klog.ErrorS(err, msg, keysAndValues...) }

func Fatal(err error, keysAndValues ...any) {
	klog.ErrorS(err, "fatal", keysAndValues...)
	klog.Flush()
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
GO
  printf 'module csi-driver-peer\n\ngo 1.25\n\nreplace monis.app/mlog => ./mlog\n' >"$src/go.mod"
  (cd "$src" && go get "sigs.k8s.io/secrets-store-csi-driver/cmd/secrets-store-csi-driver@$CSI_DRIVER_VERSION" &&
    go build -trimpath \
      -ldflags="-s -w -X sigs.k8s.io/secrets-store-csi-driver/pkg/version.BuildVersion=$CSI_DRIVER_VERSION" \
      -o "$1/bin/secrets-store-csi-driver" sigs.k8s.io/secrets-store-csi-driver/cmd/secrets-store-csi-driver)
  "$1/bin/secrets-store-csi-driver" --version
}

install_helm() {
  # Without the release's ldflag helm calls itself by its minor version only (v3.22), also in .Capabilities.
  GOBIN="$1/bin" go install -trimpath \
    -ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  "$1/bin/helm" version --short
}

# The machine's node runs the tests; the image runs another major. This one is the image's, to run the bundle on.
install_image_node() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "no node-linux package for $(uname -m)"; return 1 ;;
  esac
  (cd "$1" && npm pack --silent "node-linux-$arch@$IMAGE_NODE_VERSION" && tar xzf node-linux-*.tgz && rm node-linux-*.tgz)
  "$1/package/bin/node" --version
}

moto_dir="$cache/moto-$MOTO_VERSION"
etcd_dir="$cache/etcd-$ETCD_VERSION"
kube_dir="$cache/kube-apiserver-$KUBERNETES_VERSION"
kcm_dir="$cache/kube-controller-manager-$KUBERNETES_VERSION"
kubelet_dir="$cache/kubelet-$KUBERNETES_VERSION"
scheduler_dir="$cache/kube-scheduler-$KUBERNETES_VERSION"
csi_dir="$cache/secrets-store-csi-driver-$CSI_DRIVER_VERSION"
helm_dir="$cache/helm-$HELM_VERSION"
image_node_dir="$cache/node-$IMAGE_NODE_VERSION"

# peer NAME DIR FUNCTION: builds NAME when it was asked for.
peer() { if wants "$1"; then build "$@"; fi; }

peer moto "$moto_dir" install_moto
peer etcd "$etcd_dir" install_etcd
peer kube-apiserver "$kube_dir" install_kube_apiserver
# After kube-apiserver: it shares nearly all of its packages, already compiled in GOCACHE.
peer kube-controller-manager "$kcm_dir" install_kube_controller_manager
peer secrets-store-csi-driver "$csi_dir" install_csi_driver
peer helm "$helm_dir" install_helm
peer image-node "$image_node_dir" install_image_node
peer kubelet "$kubelet_dir" install_kubelet
peer kube-scheduler "$scheduler_dir" install_kube_scheduler
if wants debian-packages; then install_debian_packages; fi

if [[ -n $print_env ]]; then
  if wants moto; then echo "PEER_MOTO_SERVER=$moto_dir/venv/bin/moto_server"; fi
  if wants etcd; then echo "PEER_ETCD=$etcd_dir/bin/etcd"; fi
  if wants kube-apiserver; then echo "PEER_KUBE_APISERVER=$kube_dir/bin/kube-apiserver"; fi
  if wants kube-controller-manager; then echo "PEER_KUBE_CONTROLLER_MANAGER=$kcm_dir/bin/kube-controller-manager"; fi
  if wants secrets-store-csi-driver; then echo "PEER_CSI_DRIVER=$csi_dir/bin/secrets-store-csi-driver"; fi
  if wants helm; then echo "PEER_HELM=$helm_dir/bin/helm"; fi
  if wants image-node; then echo "PEER_IMAGE_NODE=$image_node_dir/package/bin/node"; fi
  if wants kubelet; then echo "PEER_KUBELET=$kubelet_dir/bin/kubelet"; fi
  if wants kube-scheduler; then echo "PEER_KUBE_SCHEDULER=$scheduler_dir/bin/kube-scheduler"; fi
  if wants debian-packages; then
    echo "PEER_CONTAINERD=$(command -v containerd)"
    echo "PEER_CONTAINERD_SHIM_DIR=$(dirname "$(command -v containerd-shim-runc-v2)")"
    echo "PEER_CTR=$(command -v ctr)"
    echo "PEER_RUNC=$(PATH=$PATH:/usr/sbin:/sbin command -v runc)"
    echo "PEER_CNI_BIN_DIR=/usr/lib/cni"
    echo "PEER_BUSYBOX=$(command -v busybox)"
    echo "PEER_UMOCI=$(command -v umoci)"
    echo "PEER_TINYPROXY=$(command -v tinyproxy)"
  fi
  echo "PEER_GOMODCACHE=$GOMODCACHE"
fi
