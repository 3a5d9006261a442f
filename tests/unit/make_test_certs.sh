#!/bin/sh
# Test certificates, made fresh for each run (never the network, never committed):
#   ca.crt          the CA the client trusts
#   server.crt/key  signed by it, SAN IP:127.0.0.1, IP:::1, DNS:localhost
#   wrongsan.crt/key  signed by it, SAN DNS:elsewhere.example only
#   other-ca.crt, rogue.crt/key  a server certificate from another CA
#   client.crt/key  a client certificate from ca.crt (CN system:kube-proxy)
#   rogueclient.crt/key  a client certificate from other-ca.crt (refused by mutual TLS)
set -eu
dir=$1
cd "$dir"
q() { "$@" >/dev/null 2>&1; }
ca() {  # ca NAME
    q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=kipvs test $1" -keyout "$1.key" -out "$1.crt"
}
leaf() {  # leaf NAME CA SAN
    q openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr"
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$3" > "$1.ext"
    q openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 2 \
        -extfile "$1.ext" -out "$1.crt"
}
ca ca
ca other-ca
leaf server ca 'IP:127.0.0.1,IP:::1,DNS:localhost'
leaf wrongsan ca 'DNS:elsewhere.example'
leaf rogue other-ca 'IP:127.0.0.1,DNS:localhost'
leaf client ca 'DNS:system:kube-proxy'
leaf rogueclient other-ca 'DNS:system:kube-proxy'
