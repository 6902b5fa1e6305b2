"""`manage.py replay_dead_letters`: send stored dead letters to the consumer group's retry
topic."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shared_events.django.conf import events_config
from shared_events.django.dead_letters import dead_letter_replay, dead_letters_select


class Command(BaseCommand):
    help = (
        "Re-publish dead letters (original bytes, key and headers) to the retry topic of "
        "this service's consumer group (<group>.retry), where its consumer tries them again."
    )

    def add_arguments(self, parser: Any) -> None:
        choice = parser.add_mutually_exclusive_group(required=True)
        choice.add_argument("--id", dest="ids", type=int, nargs="+", help="dead letter ids")
        choice.add_argument(
            "--all-unreplayed", action="store_true", help="every dead letter not replayed yet"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be replayed, send nothing"
        )

    def handle(
        self,
        *args: Any,
        ids: list[int] | None,
        all_unreplayed: bool,
        dry_run: bool,
        **options: Any,
    ) -> None:
        chosen = dead_letters_select(ids=ids, unreplayed=all_unreplayed)
        if ids is not None:
            missing = sorted(set(ids) - set(chosen.values_list("id", flat=True)))
            if missing:
                raise CommandError(f"no dead letter with id {', '.join(map(str, missing))}")
        if dry_run:
            destination = events_config().replay_topic
            for letter in chosen:
                self.stdout.write(f"{letter.id}: {letter} -> {destination}")
            self.stdout.write(f"would replay {chosen.count()} dead letter(s)")
            return
        result = dead_letter_replay(ids=ids, unreplayed=all_unreplayed)
        for letter_id, error in result.failed.items():
            self.stderr.write(f"{letter_id}: not replayed: {error}")
        self.stdout.write(f"replayed {len(result.replayed)}, failed {len(result.failed)}")
        if result.failed:
            raise CommandError("some dead letters were not replayed")
