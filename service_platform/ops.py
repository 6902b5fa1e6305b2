"""The staff ops API both services serve under `/api/ops/`: messaging status (outbox
backlog, dead letters, consumer lag) and dead letters with replay. Staff only; the public
gateway does not route it (the staff console calls it through the internal listener)."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from service_platform.api import ApplicationError, OutputSerializer
from shared_events.django.dead_letters import dead_letter_list, dead_letter_replay
from shared_events.django.models import DeadLetter
from shared_events.django.ops import ops_status


class ReplayNotAcknowledgedError(ApplicationError):
    """Kafka did not acknowledge a replay: the dead letter stays unreplayed; try again."""

    http_status = status.HTTP_503_SERVICE_UNAVAILABLE


class OutboxBacklogOutputSerializer(OutputSerializer):
    pending = serializers.IntegerField(read_only=True)
    failed = serializers.IntegerField(read_only=True)
    oldest_pending_age_seconds = serializers.FloatField(read_only=True)


class DeadLetterCountsOutputSerializer(OutputSerializer):
    unreplayed = serializers.IntegerField(read_only=True)
    total = serializers.IntegerField(read_only=True)


class TopicLagOutputSerializer(OutputSerializer):
    topic = serializers.CharField(read_only=True)
    lag = serializers.IntegerField(read_only=True)


class GroupLagOutputSerializer(OutputSerializer):
    group = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True)
    members = serializers.IntegerField(read_only=True)
    lag = serializers.IntegerField(read_only=True)
    topics = TopicLagOutputSerializer(many=True, read_only=True)


class KafkaLagOutputSerializer(OutputSerializer):
    reachable = serializers.BooleanField(read_only=True)
    error = serializers.CharField(read_only=True)
    groups = GroupLagOutputSerializer(many=True, read_only=True)


class OpsStatusOutputSerializer(OutputSerializer):
    service = serializers.CharField(read_only=True)
    checked_at = serializers.DateTimeField(read_only=True)
    outbox = OutboxBacklogOutputSerializer(read_only=True)
    dead_letters = DeadLetterCountsOutputSerializer(read_only=True)
    kafka = KafkaLagOutputSerializer(read_only=True)


class OpsStatusApi(APIView):
    """This service's messaging right now: outbox backlog, dead letters, and each consumer
    group's lag per topic from Kafka (`kafka.reachable` false, with `kafka.error`, when the
    broker does not answer)."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses=OpsStatusOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(OpsStatusOutputSerializer(ops_status()).data)


class DeadLetterOutputSerializer(OutputSerializer):
    id = serializers.IntegerField(read_only=True)
    # Where it sits, on the dead-letter topic.
    topic = serializers.CharField(read_only=True)
    partition = serializers.IntegerField(read_only=True)
    offset = serializers.IntegerField(read_only=True)
    # Where it came from, and why it failed.
    original_topic = serializers.CharField(read_only=True)
    original_partition = serializers.IntegerField(read_only=True, allow_null=True)
    original_offset = serializers.IntegerField(read_only=True, allow_null=True)
    consumer_group = serializers.CharField(read_only=True)
    error_class = serializers.CharField(read_only=True)
    error_message = serializers.CharField(read_only=True)
    attempts = serializers.IntegerField(read_only=True)
    failed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    event_id = serializers.CharField(read_only=True)
    event_type = serializers.CharField(read_only=True)
    correlation_id = serializers.CharField(read_only=True)
    # The original key and bytes, decoded as text for reading.
    key_text = serializers.CharField(read_only=True)
    value_text = serializers.CharField(read_only=True)
    received_at = serializers.DateTimeField(read_only=True)
    replay_count = serializers.IntegerField(read_only=True)
    replayed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_replay_error = serializers.CharField(read_only=True)


class DeadLetterListApi(generics.ListAPIView):
    """Dead letters this service stored, newest first; `replayed` narrows the list."""

    class FilterSerializer(serializers.Serializer):
        replayed = serializers.BooleanField(required=False, allow_null=True, default=None)

    permission_classes = [IsAdminUser]
    queryset = DeadLetter.objects.none()
    serializer_class = DeadLetterOutputSerializer

    @extend_schema(parameters=[FilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(dead_letter_list(**filters.validated_data))
        return self.get_paginated_response(DeadLetterOutputSerializer(page, many=True).data)


class DeadLetterReplayApi(APIView):
    """Send a dead letter again, to its consumer group's own retry topic (as the admin's
    replay action and `manage.py replay_dead_letters` do); 503 if Kafka does not take it."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None,
        responses={
            200: DeadLetterOutputSerializer,
            503: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="Kafka did not acknowledge the replay; it stays unreplayed.",
            ),
        },
    )
    def post(self, request: Request, letter_id: int) -> Response:
        letter = dead_letter_list().get(id=letter_id)
        result = dead_letter_replay(ids=[letter.id])
        if letter.id in result.failed:
            raise ReplayNotAcknowledgedError(
                "Kafka did not acknowledge the replay; try again.",
                extra={"error": result.failed[letter.id]},
            )
        letter.refresh_from_db()
        return Response(DeadLetterOutputSerializer(letter).data)
