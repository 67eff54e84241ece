"""Load runs against a real ``pana serve`` on loopback; see ``python -m tests.load --help``."""
