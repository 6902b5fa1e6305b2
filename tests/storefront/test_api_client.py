"""The API client turns every failure into an error a person can read."""

import httpx
import pytest

from storefront.api_client import (
    ApiClient,
    ApiForbidden,
    ApiNotFound,
    ApiRateLimited,
    ApiRejected,
    ApiUnauthorized,
    ApiUnavailable,
    Tokens,
)
from storefront.request_ids import client_address_of, current_client_address, current_request_id


def client_answering(handler, **kwargs) -> ApiClient:
    return ApiClient(
        order_url="http://order.test",
        inventory_url="http://inventory.test",
        transport=httpx.MockTransport(handler),
        **kwargs,
    )


@pytest.mark.parametrize(
    "status, body, error",
    [
        (404, {"message": "Order not found.", "extra": {}}, ApiNotFound),
        (403, {"detail": "You do not have permission."}, ApiForbidden),
        (500, "<html>boom</html>", ApiUnavailable),
        (502, "", ApiUnavailable),
        (503, "", ApiUnavailable),
    ],
)
def test_each_failure_status_maps_to_its_error(status, body, error):
    def answer(request):
        if isinstance(body, dict):
            return httpx.Response(status, json=body)
        return httpx.Response(status, text=body)

    with pytest.raises(error) as raised:
        client_answering(answer).order_get(order_id="x")

    assert raised.value.message
    assert "<html>" not in raised.value.message


def test_a_refusal_carries_the_services_message_and_field_errors():
    def answer(request):
        return httpx.Response(
            400, json={"shipping_address": ["Ensure this field has no more than 2000 characters."]}
        )

    with pytest.raises(ApiRejected) as raised:
        client_answering(answer).order_create(
            lines=[{"sku": "A-1", "quantity": 1}], shipping_address="x", idempotency_key="k"
        )

    assert raised.value.fields == {
        "shipping_address": ["Ensure this field has no more than 2000 characters."]
    }
    assert "shipping_address" in raised.value.message


def test_a_conflict_shows_the_services_own_words():
    def answer(request):
        return httpx.Response(
            409, json={"message": "An order that is shipped cannot be cancelled."}
        )

    with pytest.raises(ApiRejected, match="shipped cannot be cancelled"):
        client_answering(answer).order_cancel(order_id="x")


def test_a_429_says_how_long_to_wait():
    def answer(request):
        return httpx.Response(429, headers={"Retry-After": "7"}, json={"detail": "Throttled."})

    with pytest.raises(ApiRateLimited) as raised:
        client_answering(answer).product_list()

    assert raised.value.retry_after == 7
    assert "7 seconds" in raised.value.message


def test_a_network_error_is_unavailable_not_a_crash():
    def answer(request):
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ApiUnavailable, match="cannot be reached"):
        client_answering(answer).product_get(sku="A-1")


def test_a_get_cut_off_mid_answer_is_asked_once_more():
    calls = []

    def answer(request):
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return httpx.Response(200, json={"sku": "A-1"})

    assert client_answering(answer).product_get(sku="A-1") == {"sku": "A-1"}
    assert calls == ["GET", "GET"]


def test_a_post_cut_off_is_not_sent_again():
    calls = []

    def answer(request):
        calls.append(request.method)
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    with pytest.raises(ApiUnavailable):
        client_answering(answer).order_cancel(order_id="x")
    assert calls == ["POST"]


def test_an_expired_access_token_is_refreshed_once_and_kept():
    seen, kept = [], []

    def answer(request):
        seen.append((request.url.path, request.headers.get("Authorization")))
        if request.url.path == "/api/auth/token/refresh/":
            return httpx.Response(200, json={"access": "new-access"})
        if request.headers["Authorization"] == "Bearer old-access":
            return httpx.Response(401, json={"detail": "Token expired."})
        return httpx.Response(200, json={"id": "o-1"})

    client = client_answering(
        answer, tokens=Tokens(access="old-access", refresh="r"), on_refresh=kept.append
    )

    assert client.order_get(order_id="o-1") == {"id": "o-1"}
    assert [path for path, _ in seen] == [
        "/api/orders/o-1/",
        "/api/auth/token/refresh/",
        "/api/orders/o-1/",
    ]
    assert kept == [Tokens(access="new-access", refresh="r")]


def test_a_refresh_that_fails_means_signing_in_again():
    def answer(request):
        return httpx.Response(401, json={"detail": "Token is invalid or expired."})

    client = client_answering(answer, tokens=Tokens(access="a", refresh="r"))

    with pytest.raises(ApiUnauthorized):
        client.order_list()


def test_the_request_id_and_the_idempotency_key_go_along():
    headers = {}

    def answer(request):
        headers.update(request.headers)
        return httpx.Response(201, json={"id": "o-1"})

    token = current_request_id.set("req-123")
    address = current_client_address.set("203.0.113.9")
    try:
        client_answering(answer, tokens=Tokens(access="a", refresh="r")).order_create(
            lines=[{"sku": "A-1", "quantity": 1}], shipping_address="x", idempotency_key="key-1"
        )
    finally:
        current_request_id.reset(token)
        current_client_address.reset(address)

    assert headers["x-request-id"] == "req-123"
    assert headers["x-forwarded-for"] == "203.0.113.9"
    assert headers["idempotency-key"] == "key-1"
    assert headers["authorization"] == "Bearer a"


def test_the_client_address_is_the_one_the_gateway_saw(rf):
    # The gateway appends the address it saw to whatever the client sent.
    behind_gateway = rf.get("/", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.9")
    direct = rf.get("/", REMOTE_ADDR="198.51.100.4")

    assert client_address_of(behind_gateway) == "203.0.113.9"
    assert client_address_of(direct) == "198.51.100.4"
