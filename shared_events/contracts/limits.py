"""The bounds of an order, in one place: the APIs validate their input with them and the
event contracts refuse any event outside them, which the APIs could never have caused."""

# A SKU: 2-40 upper-case letters, digits or '-', starting with a letter or digit.
SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,39}$"
SKU_MAX_LENGTH = 40
ORDER_MAX_LINES = 100
LINE_MAX_QUANTITY = 1_000
CUSTOMER_ID_MAX_LENGTH = 100
# An order's shipping address and note (no event carries them).
ORDER_TEXT_MAX_LENGTH = 2_000
# A cancellation's or a rejection's reason (the order's `status_reason` column).
REASON_MAX_LENGTH = 500
