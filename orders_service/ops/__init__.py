"""Operations: health and readiness probes, Prometheus metrics, JSON logs with request, order and task ids."""
