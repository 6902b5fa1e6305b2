from django.db import migrations

# Every statement that inserts outbox rows sends one NOTIFY, which PostgreSQL delivers when
# (and only if) the transaction commits: the relay wakes as soon as there is work for it.
NOTIFY_ON_INSERT = """
CREATE FUNCTION shared_events_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('shared_events_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER shared_events_outbox_notify
    AFTER INSERT ON shared_events_outboxmessage
    FOR EACH STATEMENT EXECUTE FUNCTION shared_events_outbox_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS shared_events_outbox_notify ON shared_events_outboxmessage;
DROP FUNCTION IF EXISTS shared_events_outbox_notify();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("shared_events", "0003_observability"),
    ]

    operations = [migrations.RunSQL(NOTIFY_ON_INSERT, reverse_sql=DROP)]
