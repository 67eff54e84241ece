"""`make bench`: Pana's throughput, latency and scaling on loopback (``python -m bench``)."""
