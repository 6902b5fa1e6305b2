"""Start the whole saga natively: PostgreSQL, Redis and Kafka when none is reachable,
then both services' web, Celery worker, beat, relay and consumer processes, all under one
supervisord that restarts whatever dies and stops everything on Ctrl-C or SIGTERM.

`python -m manage_scripts.stack` is the one launcher: `manage_scripts/up` (everything),
`manage_scripts/test` and `manage_scripts/bench` (infrastructure, then their command), and
the end-to-end tests, fault tests and bench (a stack of their own, through `launch`).

    config       where everything lives, read from the services' environment variables
    probes       is a server or process there yet; wait until it is
    provision    what must exist first: packages, jars, a cluster, storage, databases
    programs     the supervisord programs: local servers and the services' processes
    supervision  supervisord's configuration and control, and children that die with us
    launch       run a stack in this process, or own one as a child process
    cli          the command line
"""


class StackError(Exception):
    """A reason to stop, printed as one line."""


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)
