#!/usr/bin/env bash
# Install (Debian's package) and start a local PostgreSQL for the tests; idempotent.
# Writes the test database URL to .ci/.postgres-url.
set -euo pipefail
cd "$(dirname "$0")"

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main
fi
if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
  pg_ctlcluster "$version" main start
fi
for _ in $(seq 30); do
  su postgres -c "pg_isready -q -h 127.0.0.1" && break
  sleep 1
done
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_roles WHERE rolname = 'mobility'\"" | grep -q 1 ||
  su postgres -c "psql -q -c \"CREATE ROLE mobility LOGIN SUPERUSER PASSWORD 'mobility'\""
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname = 'mobility_test'\"" | grep -q 1 ||
  su postgres -c "createdb -O mobility mobility_test"
echo "postgresql+psycopg://mobility:mobility@127.0.0.1:5432/mobility_test" > .postgres-url
echo "PostgreSQL $version ready: $(cat .postgres-url)"
