"""Who is signed in: the order service's tokens, kept in the server-side session only.

The browser holds nothing but the session cookie (HttpOnly); staff is the `is_staff` claim
of the access token, which the services check again on every call.
"""

import functools
from collections.abc import Callable
from typing import Any, TypedDict
from urllib.parse import urlencode

import jwt
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from storefront.api_client import ApiClient, ApiUnauthorized, Tokens

SESSION_TOKENS = "api_tokens"


class SignedIn(TypedDict):
    username: str
    user_id: str
    is_staff: bool


def tokens_of(request: HttpRequest) -> Tokens | None:
    raw = request.session.get(SESSION_TOKENS)
    return Tokens(**raw) if raw else None


def tokens_keep(request: HttpRequest, tokens: Tokens) -> None:
    request.session[SESSION_TOKENS] = {"access": tokens.access, "refresh": tokens.refresh}


def sign_in(request: HttpRequest, tokens: Tokens) -> None:
    """Start a new session for the user (a new session key: no fixation)."""
    cart = request.session.get("cart")
    request.session.cycle_key()
    tokens_keep(request, tokens)
    if cart:
        request.session["cart"] = cart


def sign_out(request: HttpRequest) -> None:
    request.session.flush()


def signed_in(request: HttpRequest) -> SignedIn | None:
    """The signed-in user, read from the access token's claims (the services verify it)."""
    tokens = tokens_of(request)
    if tokens is None:
        return None
    claims = jwt.decode(tokens.access, options={"verify_signature": False})
    return {
        "username": str(claims.get("username", "")),
        "user_id": str(claims.get("user_id", "")),
        "is_staff": bool(claims.get("is_staff", False)),
    }


def api_for(request: HttpRequest) -> ApiClient:
    """The API client of the request's user (anonymous when nobody is signed in)."""
    return ApiClient(
        tokens=tokens_of(request), on_refresh=lambda tokens: tokens_keep(request, tokens)
    )


def signed_in_context(request: HttpRequest) -> dict[str, Any]:
    return {"signed_in": signed_in(request)}


View = Callable[..., HttpResponse]


def _to_login(request: HttpRequest, message: str | None = None) -> HttpResponse:
    if message:
        messages.info(request, message)
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('shop:login')}?{query}")


def login_required(view: View) -> View:
    """Send anonymous users to the login page; an expired session too."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if tokens_of(request) is None:
            return _to_login(request, "Please sign in to continue.")
        try:
            return view(request, *args, **kwargs)
        except ApiUnauthorized:
            sign_out(request)
            return _to_login(request, "Your session has ended. Please sign in again.")

    return wrapped


def staff_required(view: View) -> View:
    """Only staff accounts; others get a 403 page, anonymous users the login page."""

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = signed_in(request)
        if user is None or not user["is_staff"]:
            return render(request, "403.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped
