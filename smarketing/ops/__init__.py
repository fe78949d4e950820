"""Operations: sign-in throttling, health and readiness probes, Prometheus metrics."""
