"""TLS and interception: the local CA, the intercepting proxy and its HTTP/1 bridge."""
