#!/bin/sh
# kube-ipvs0, sysctls and the ipvs-match payload against the VM's kernel,
# checked with ip and iptables-save (host_networking_vm_test.cpp).
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh
check "modprobe ip_vs" "$MODPROBE" ip_vs
check "modprobe dummy" "$MODPROBE" dummy
/test/host-networking-vm-test
