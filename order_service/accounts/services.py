"""Customer accounts: the users the order service issues access tokens to."""

from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from service_platform.api import ConflictError


def account_register(*, username: str, password: str) -> AbstractBaseUser:
    """Create a customer account (never staff); the password must pass the validators."""
    user_model = get_user_model()
    user = user_model(username=username)
    password_validation.validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent registration of the same name won
        raise ConflictError("This username is taken.", extra={"username": username}) from exc
    return user


def token_claims(user: Any) -> dict[str, Any]:
    """What every service needs to authorize a request, carried in the access token."""
    return {"username": user.get_username(), "is_staff": bool(user.is_staff)}
