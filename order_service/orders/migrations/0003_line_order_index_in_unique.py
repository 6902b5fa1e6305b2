import django.db.models.deletion
from django.db import migrations, models

# The unique (order, sku) constraint's index starts with order_id, so the foreign key's own
# index is redundant. It is dropped CONCURRENTLY (outside a transaction): Django's AlterField
# would also drop and re-check the foreign key, locking out new orders while it scans.
INDEX = "orders_orderline_order_id_17f8f3ef"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0002_saga_retries_and_idempotency"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX CONCURRENTLY IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{INDEX}"'
                    ' ON "orders_orderline" ("order_id")',
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="orderline",
                    name="order",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines",
                        to="orders.order",
                    ),
                ),
            ],
        ),
    ]
