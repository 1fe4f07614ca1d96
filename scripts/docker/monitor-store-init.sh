#!/usr/bin/env bash
# The monitor store's first start (mounted into /docker-entrypoint-initdb.d by docker-compose.yml): the monitor's own
# role, which may connect to the store's database and owns the schema pgaf_monitor, nothing more
# (docs/operations.md#least-privilege). The superuser (POSTGRES_USER) stays for the operator.
set -euo pipefail
: "${PGAF_MONITOR_STORE_PASSWORD:?PGAF_MONITOR_STORE_PASSWORD must be set}"
psql -v ON_ERROR_STOP=1 -q --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v password="$PGAF_MONITOR_STORE_PASSWORD" <<'SQL'
CREATE ROLE pgaf_monitor_store LOGIN PASSWORD :'password';
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO pgaf_monitor_store', current_database()) \gexec
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA pgaf_monitor AUTHORIZATION pgaf_monitor_store;
SQL
echo "monitor-store-init: role pgaf_monitor_store owns schema pgaf_monitor"
