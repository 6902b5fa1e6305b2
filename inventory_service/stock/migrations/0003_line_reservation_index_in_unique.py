import django.db.models.deletion
from django.db import migrations, models

# The unique (reservation, product) constraint's index starts with reservation_id, so the
# foreign key's own index is redundant. It is dropped CONCURRENTLY (outside a transaction):
# Django's AlterField would also drop and re-check the foreign key, locking out the
# consumer while it scans.
INDEX = "stock_reservationline_reservation_id_9b54dc5f"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("stock", "0002_reservation_reason_code"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX CONCURRENTLY IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{INDEX}"'
                    ' ON "stock_reservationline" ("reservation_id")',
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="reservationline",
                    name="reservation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines",
                        to="stock.reservation",
                    ),
                ),
            ],
        ),
    ]
