"""Stock levels: the badge a product shows (in stock, low, out), and when a stock move is
worth an event: crossing the low-stock threshold, either way, or running out."""

import enum

from django.db.models import F, Q

from shared_events.contracts import (
    Contract,
    StockDepletedIntegrationEvent,
    StockLevel,
    StockLevelNormalizedIntegrationEvent,
    StockLevelWarningIntegrationEvent,
)


def level_events(sku: str, *, before: int, after: int, threshold: int) -> list[Contract]:
    """The stock-level events for a move from `before` to `after` available units."""
    events: list[Contract] = []
    if after < before:
        if before > threshold >= after:
            events.append(
                StockLevelWarningIntegrationEvent(
                    sku=sku, available_quantity=after, low_stock_threshold=threshold
                )
            )
        if after == 0:
            events.append(StockDepletedIntegrationEvent(sku=sku))
    elif before <= threshold < after:
        events.append(
            StockLevelNormalizedIntegrationEvent(
                levels=(
                    StockLevel(sku=sku, available_quantity=after, low_stock_threshold=threshold),
                )
            )
        )
    return events


class StockLevelName(enum.StrEnum):
    IN = "in"
    LOW = "low"
    OUT = "out"


def stock_level(*, available: int, threshold: int) -> StockLevelName:
    """Out at zero; low at or below the threshold; in stock above it."""
    if available <= 0:
        return StockLevelName.OUT
    if available <= threshold:
        return StockLevelName.LOW
    return StockLevelName.IN


def stock_level_filter(level: StockLevelName) -> Q:
    """The products at `level`, as a query (the same bounds as `stock_level`)."""
    return {
        StockLevelName.OUT: Q(available_quantity__lte=0),
        StockLevelName.LOW: Q(
            available_quantity__gt=0, available_quantity__lte=F("low_stock_threshold")
        ),
        StockLevelName.IN: Q(available_quantity__gt=F("low_stock_threshold"))
        & Q(available_quantity__gt=0),
    }[level]
