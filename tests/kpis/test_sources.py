"""The resources behind each metric: complete for the registry, named as in the data contract."""

from smarketing.funnel.schemas import RESOURCES
from smarketing.kpis.registry import METRICS
from smarketing.kpis.sources import METRIC_SOURCES, sources_for


def test_every_registered_metric_names_the_resources_it_is_computed_from():
    assert set(METRIC_SOURCES) == set(METRICS)
    assert all(METRIC_SOURCES[key] for key in METRICS)


def test_sources_are_data_contract_resource_names():
    named = {resource for sources in METRIC_SOURCES.values() for resource in sources}
    assert named <= set(RESOURCES)


def test_sources_for_keeps_first_use_order_without_repeats():
    assert sources_for(["roi", "leads", "revenue"]) == ["deals", "spend", "contacts"]
