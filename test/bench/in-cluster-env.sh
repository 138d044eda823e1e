#!/bin/sh
# in-cluster-env.sh — start a provider that only knows the in-cluster config (ASCP)
# outside a pod, against the kube-apiserver named in $KUBECONFIG: the bench's
# --provider-command for AWS's own provider.
#
# ASCP only knows rest.InClusterConfig(), i.e. it needs
#   KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT and the files
#   /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}.
# This script takes the current context of $KUBECONFIG (bearer-token user,
# certificate-authority-data or certificate-authority), writes token + ca.crt
# into a private temp dir, and then
#   exec unshare --mount sh -c '... mount it at the SA path ...; exec ASCP "$@"'
# so the SA files exist only in ASCP's private mount namespace.
#
# Every step is an exec: the PID of this script IS the PID of the running ASCP
# process (unshare without --fork execs in place), which the bench measures.
#
# Usage:
#   KUBECONFIG=/path/kubeconfig ASCP_BIN=/path/ascp \
#     in-cluster-env.sh --provider-volume=/some/dir [other ASCP flags]
# All arguments are passed to ASCP unchanged. Everything else in the
# environment (AWS_REGION, AWS_ENDPOINT_URL, ...) is passed through.
# Needs: root (mount namespace + mount), kubectl (to read the kubeconfig).
set -eu

me=in-cluster-env.sh
die() { echo "$me: $*" >&2; exit 1; }

[ -n "${ASCP_BIN:-}" ] || die "set ASCP_BIN to the provider binary"
SA_DIR=/var/run/secrets/kubernetes.io/serviceaccount

[ -n "${KUBECONFIG:-}" ] || die "KUBECONFIG is not set"
[ -x "$ASCP_BIN" ] || die "ASCP binary not found/executable: $ASCP_BIN"
command -v kubectl >/dev/null 2>&1 || die "kubectl is needed to read the kubeconfig"
command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) is needed"
[ "$(id -u)" = 0 ] || die "must run as root (private mount namespace + mount)"

# Read the current context; --flatten turns certificate-authority file
# references into certificate-authority-data.
kv() { kubectl config view --raw --minify --flatten -o "jsonpath=$1"; }
server=$(kv '{.clusters[0].cluster.server}') || die "cannot read kubeconfig"
ca_data=$(kv '{.clusters[0].cluster.certificate-authority-data}')
token=$(kv '{.users[0].user.token}')
token_file=$(kv '{.users[0].user.tokenFile}')
namespace=$(kv '{.contexts[0].context.namespace}')

[ -n "$server" ] || die "no cluster server in kubeconfig"
if [ -z "$token" ] && [ -n "$token_file" ]; then
  [ -r "$token_file" ] || die "tokenFile not readable: $token_file"
  token=$(cat "$token_file")
fi
[ -n "$token" ] || die "kubeconfig user has no bearer token (token/tokenFile)"
[ -n "$ca_data" ] || die "kubeconfig cluster has no certificate-authority(-data)"

# server: https://HOST[:PORT][/path]  ->  HOST, PORT (InClusterConfig always uses https)
case "$server" in
  https://*) hostport=${server#https://} ;;
  *) die "server must be an https:// URL (InClusterConfig only speaks https): $server" ;;
esac
hostport=${hostport%%/*}
case "$hostport" in
  \[*\]:*) host=${hostport%%]:*}; host=${host#[}; port=${hostport##*]:} ;;  # [v6]:port
  \[*\])   host=${hostport#[}; host=${host%]}; port=443 ;;
  *:*)     host=${hostport%:*}; port=${hostport##*:} ;;
  *)       host=$hostport; port=443 ;;
esac
[ -n "$host" ] && [ -n "$port" ] || die "cannot parse host/port from $server"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ascp-sa.XXXXXX")
chmod 700 "$tmp"
printf '%s' "$token" > "$tmp/token"
printf '%s' "$ca_data" | base64 -d > "$tmp/ca.crt" || { rm -rf "$tmp"; die "bad certificate-authority-data"; }
printf '%s' "${namespace:-default}" > "$tmp/namespace"
chmod 600 "$tmp/token"

echo "$me: ASCP_PID=$$ apiserver=$host:$port bin=$ASCP_BIN" >&2

# Inside the new, private mount namespace: mount a tmpfs at the SA path, copy
# token/ca.crt/namespace into it, delete the on-disk temp dir (so no token copy
# is left behind), then exec ASCP itself.
export ASCP_W_TMP="$tmp" ASCP_W_SA_DIR="$SA_DIR" ASCP_W_BIN="$ASCP_BIN"
export ASCP_W_HOST="$host" ASCP_W_PORT="$port"
unset token ca_data
exec unshare --mount --propagation private sh -c '
  set -eu
  mkdir -p "$ASCP_W_SA_DIR"   # creates an empty mount point on the host only if missing
  mount -t tmpfs -o size=1m,mode=0755 ascp-serviceaccount "$ASCP_W_SA_DIR"
  cp "$ASCP_W_TMP/token" "$ASCP_W_TMP/ca.crt" "$ASCP_W_TMP/namespace" "$ASCP_W_SA_DIR/"
  rm -rf "$ASCP_W_TMP"
  bin=$ASCP_W_BIN
  export KUBERNETES_SERVICE_HOST="$ASCP_W_HOST" KUBERNETES_SERVICE_PORT="$ASCP_W_PORT"
  unset ASCP_W_TMP ASCP_W_SA_DIR ASCP_W_BIN ASCP_W_HOST ASCP_W_PORT
  exec "$bin" "$@"
' in-cluster-env "$@"
