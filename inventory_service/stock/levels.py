"""When a stock move is worth an event: crossing the low-stock threshold, either way, or
running out."""

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
