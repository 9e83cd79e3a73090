"""Reading Prometheus text the way a scraper does (prometheus_client's own parser), for tests."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample: (name, labels, value). Parsing fails loudly on text a scraper would refuse."""
    families = text_string_to_metric_families(text)
    return [(sample.name, dict(sample.labels), sample.value) for family in families for sample in family.samples]


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when there are none yet)."""
    return sum(v for n, got, v in samples(text) if n == name and labels.items() <= got.items())
