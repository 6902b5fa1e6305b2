"""Account HTTP API: register, obtain a token pair, refresh an access token."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from order_service.accounts import services
from service_platform.throttling import (
    CredentialsIpThrottle,
    CredentialsUsernameThrottle,
    RefreshUserThrottle,
    RegisterIpThrottle,
)

USERNAME_MAX_LENGTH = 150
PASSWORD_MAX_LENGTH = 128


class TokenObtainInputSerializer(TokenObtainPairSerializer):
    """Username and password in; a refresh and an access token out, with our claims."""

    @classmethod
    def get_token(cls, user: Any) -> RefreshToken:
        token = super().get_token(user)
        for name, value in services.token_claims(user).items():
            token[name] = value
        return token  # type: ignore[return-value]  # the pair serializer makes a RefreshToken


class TokenRefreshInputSerializer(TokenRefreshSerializer):
    """A refresh token in; a new access token out, with the user's current claims."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = RefreshToken(attrs["refresh"])
        user = (
            get_user_model()
            .objects.filter(**{jwt_settings.USER_ID_FIELD: refresh.get(jwt_settings.USER_ID_CLAIM)})
            .first()
        )
        if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(
                "No active account found for the given token.", "no_active_account"
            )
        access = refresh.access_token
        for name, value in services.token_claims(user).items():
            access[name] = value
        return {"access": str(access)}


class RegisterApi(APIView):
    """Create a customer account: 201, or 400 with field errors."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [RegisterIpThrottle, CredentialsUsernameThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.RegexField(
            r"^[\w.@+-]+\Z",
            max_length=USERNAME_MAX_LENGTH,
            error_messages={"invalid": "Letters, digits and @/./+/-/_ only."},
        )
        password = serializers.CharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField()
        username = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if get_user_model().objects.filter(username=data["username"]).exists():
            raise serializers.ValidationError({"username": ["This username is taken."]})
        try:
            user = services.account_register(username=data["username"], password=data["password"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return Response(
            {"id": str(user.pk), "username": user.get_username()}, status=status.HTTP_201_CREATED
        )


class TokenObtainApi(TokenObtainPairView):
    """Log in: username and password for a refresh and a short-lived access token."""

    throttle_classes = [CredentialsIpThrottle, CredentialsUsernameThrottle]


class TokenRefreshApi(TokenRefreshView):
    """A new access token for a refresh token."""

    throttle_classes = [CredentialsIpThrottle, RefreshUserThrottle]
