"""Order statuses as the storefront treats them."""

# Nothing follows these: the live page stops listening.
FINAL_STATUSES = frozenset({"rejected", "cancelled", "shipped"})
# The order service accepts a cancellation in these.
CANCELLABLE_STATUSES = frozenset({"pending", "confirmed"})
