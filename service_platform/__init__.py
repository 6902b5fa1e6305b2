"""The HTTP platform both services share: API errors and output serializers, token
authentication, the OpenAPI schema, health, metrics and request middleware, settings and
the development login. Messaging lives in `shared_events`, which never imports this."""
