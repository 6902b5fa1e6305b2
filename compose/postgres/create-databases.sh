#!/bin/sh
# Run once, by the postgres image's entrypoint, when the data volume is first initialised:
# one role per service, owning its database and allowed to connect to nothing else.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v order_password="$ORDER_DB_PASSWORD" -v inventory_password="$INVENTORY_DB_PASSWORD" <<'SQL'
CREATE ROLE order_service LOGIN PASSWORD :'order_password';
CREATE ROLE inventory_service LOGIN PASSWORD :'inventory_password';
CREATE DATABASE order_service OWNER order_service;
CREATE DATABASE inventory_service OWNER inventory_service;
REVOKE ALL ON DATABASE order_service FROM PUBLIC;
REVOKE ALL ON DATABASE inventory_service FROM PUBLIC;
REVOKE ALL ON DATABASE postgres FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE order_service TO order_service;
GRANT CONNECT, TEMPORARY ON DATABASE inventory_service TO inventory_service;
SQL
