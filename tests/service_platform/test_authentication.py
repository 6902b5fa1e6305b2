"""API token authentication: the key maps to its own user and token, as with DRF's."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from service_platform.authentication import TokenAuthentication

pytestmark = pytest.mark.django_db


def test_a_key_authenticates_its_own_user_with_its_token():
    users = [get_user_model().objects.create_user(name) for name in ("ann", "ben")]
    tokens = [Token.objects.create(user=user) for user in users]

    user, token = TokenAuthentication().authenticate_credentials(tokens[1].key)

    assert user == users[1] and user.username == "ben"
    assert token == tokens[1] and token.user_id == users[1].pk
    assert token.created == tokens[1].created
    fields = [field.attname for field in type(user)._meta.concrete_fields]
    stored = type(user).objects.get(pk=users[1].pk)
    assert [getattr(user, f) for f in fields] == [getattr(stored, f) for f in fields]
    assert not user._state.adding and user._state.db == "default"


def test_an_unknown_key_is_refused():
    with pytest.raises(AuthenticationFailed, match="Invalid token"):
        TokenAuthentication().authenticate_credentials("no-such-key")
