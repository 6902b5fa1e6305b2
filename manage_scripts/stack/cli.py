"""The command line: `python -m manage_scripts.stack [--infra-only] [--no-demo] [--no-storefront]
[-- command]`."""

import argparse

import manage_scripts.stack
from manage_scripts.stack.config import StackConfig
from manage_scripts.stack.launch import stack_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m manage_scripts.stack",
        description=(manage_scripts.stack.__doc__ or "").split("\n\n")[0],
    )
    parser.add_argument(
        "--infra-only",
        action="store_true",
        help="start only PostgreSQL, Redis and Kafka (as needed)",
    )
    parser.add_argument("--no-demo", action="store_true", help="skip demo products and user")
    parser.add_argument(
        "--no-storefront",
        action="store_true",
        help="the services and the gateway's API only, without the storefront's processes",
    )
    parser.add_argument(
        "then",
        nargs=argparse.REMAINDER,
        help="after `--`: run this command once ready, then stop everything",
    )
    args = parser.parse_args(argv)
    then = args.then[1:] if args.then[:1] == ["--"] else args.then
    return stack_run(
        StackConfig.from_env(),
        infra_only=args.infra_only,
        demo=not args.no_demo,
        storefront=not args.no_storefront,
        then=then,
    )
