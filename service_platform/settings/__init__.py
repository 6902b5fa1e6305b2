"""Settings shared by both services, one module per concern, all read from the environment."""
