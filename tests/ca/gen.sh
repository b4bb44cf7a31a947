#!/bin/sh
# Regenerates the test PKI. Test keys only: never use them outside tests.
set -eu
cd "$(dirname "$0")"
days=36500
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days $days \
  -subj "/CN=AutomateIQ Test CA" -keyout ca-key.pem -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
issue() {
  name=$1 subj=$2 san=$3
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subj" \
    -keyout "$name-key.pem" -out "$name.csr"
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
    -days $days -out "$name.pem" -extfile "$name.ext"
  rm -f "$name.csr" "$name.ext"
}
issue server "/CN=localhost" "DNS:localhost,IP:127.0.0.1,IP:::1"
issue wronghost "/CN=wrong.example" "DNS:wrong.example"
# an untrusted, self-signed certificate for localhost
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days $days \
  -subj "/CN=localhost" -keyout untrusted-key.pem -out untrusted.pem \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
rm -f ca.srl
