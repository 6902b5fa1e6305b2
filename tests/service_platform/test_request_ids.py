"""X-Request-ID: a well-formed client id is kept, anything else replaced by a new one."""

import pytest

from service_platform.middleware import request_id_of


@pytest.mark.parametrize("client_id", ["a", "req-1", "A.b_c-9", "x" * 64, "0a8566bb-1be0-4fa5"])
def test_a_well_formed_id_is_kept(client_id):
    assert request_id_of(client_id) == client_id


@pytest.mark.parametrize(
    "client_id", [None, "", "x" * 65, "has space", "semi;colon", "new\nline", "ünïcode", "a/b"]
)
def test_anything_else_is_replaced_by_a_new_id(client_id):
    made = request_id_of(client_id)

    assert made != client_id
    assert request_id_of(made) == made  # itself well formed
    assert request_id_of(client_id) != made  # new each time


@pytest.mark.django_db
def test_a_request_answers_with_the_id_it_logged(client):
    kept = client.get("/health/live", HTTP_X_REQUEST_ID="client-7")
    replaced = client.get("/health/live", HTTP_X_REQUEST_ID="no good")

    assert kept["X-Request-ID"] == "client-7"
    assert replaced["X-Request-ID"] != "no good"
