-- Run once, by the postgres image's entrypoint, when the data volume is first initialised.
-- POSTGRES_USER (saga) and POSTGRES_DB (order_service) already exist by then.
CREATE DATABASE inventory_service OWNER saga;
