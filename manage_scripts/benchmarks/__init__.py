"""The benchmark suite: `manage_scripts/bench` runs it against the real stack.

One module per figure (`raw_kafka`, `relay`, `consumer_apply`, `end_to_end`,
`flash_sale`), `runner` to run them in order and `report` to write
`bench-reports/latest.{json,md}`. Nothing here is part of the test suite.
"""
