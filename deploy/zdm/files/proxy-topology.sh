#!/bin/sh
# Sets ZDM_PROXY_TOPOLOGY_ADDRESSES to the IP addresses of every proxy replica, in ordinal order,
# then runs the command given as arguments. The proxy advertises these addresses to drivers in the
# inet columns of system.local and system.peers, so they must be IP addresses: the stable DNS names
# of the headless Service are resolved here, once, at start.
#
# Environment: ZDM_PROXY_TOPOLOGY_INDEX (this pod's ordinal), POD_IP, PROXY_REPLICAS,
# STATEFULSET_NAME, HEADLESS_SERVICE, POD_NAMESPACE, CLUSTER_DOMAIN, TOPOLOGY_WAIT_SECONDS.
set -eu

deadline=$(( $(date +%s) + TOPOLOGY_WAIT_SECONDS ))
addresses=""
i=0
while [ "$i" -lt "$PROXY_REPLICAS" ]; do
  if [ "$i" = "$ZDM_PROXY_TOPOLOGY_INDEX" ]; then
    ip="$POD_IP"
  else
    name="$STATEFULSET_NAME-$i.$HEADLESS_SERVICE.$POD_NAMESPACE.svc.$CLUSTER_DOMAIN"
    # The headless Service publishes not-ready pods, so a peer's name resolves once it has an IP.
    until ip=$(getent ahostsv4 "$name" | awk 'NR == 1 { print $1 }') && [ -n "$ip" ]; do
      if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "proxy topology: $name did not resolve within ${TOPOLOGY_WAIT_SECONDS}s; check that proxy pod $i is scheduled and has an IP (kubectl get pods -o wide)" >&2
        exit 1
      fi
      sleep 2
    done
  fi
  addresses="${addresses:+$addresses,}$ip"
  i=$((i + 1))
done

export ZDM_PROXY_TOPOLOGY_ADDRESSES="$addresses"
echo "proxy topology: instance $ZDM_PROXY_TOPOLOGY_INDEX of $addresses" >&2
exec "$@"
